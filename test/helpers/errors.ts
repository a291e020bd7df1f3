// Shared checks for the contract's error shape, and a logger that keeps its lines for inspection.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { expect } from 'vitest';

export interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path?: string; message?: string; [k: string]: unknown }> };
}

/** Asserts the {error: {code, message, details}} shape and nothing that leaks internals. */
export function expectErrorShape(body: unknown): asserts body is ErrorBody {
  expect(body).toEqual({
    error: { code: expect.any(String), message: expect.any(String), details: expect.any(Array) },
  });
  expectNoInternals(JSON.stringify(body));
}

/** No stack frames, SQL or host names in text a client receives. */
export function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\n\s+at |\bat [\w.<>]+ \(|\.ts:\d+|\.js:\d+/);
  expect(text).not.toMatch(/\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/);
  expect(text).not.toMatch(/127\.0\.0\.1|localhost|postgres:\/\/|redis:\/\//);
}

/** The paths named in an error's details. */
export function detailPaths(body: ErrorBody): string[] {
  return body.error.details.map((d) => String(d.path));
}

/** A pino logger at debug level whose lines are kept in memory. */
export function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}
