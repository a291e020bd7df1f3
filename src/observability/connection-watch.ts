// One log line when PostgreSQL stops answering and one when it answers again, however many calls fail between.
import type { Logger } from 'pino';

// SQLSTATE classes and codes that mean the connection, not the statement, failed:
// 08 connection exception; 57P01-57P03 admin shutdown, crash shutdown, cannot connect now.
const PG_CONNECTION_CODES = /^(08...|57P01|57P02|57P03)$/;
const NODE_CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// pg raises these without a code.
const PG_CONNECTION_MESSAGES = /connection terminated|timeout exceeded when trying to connect|not queryable|connection error|server closed the connection/i;

/** Whether an error from pg means the server or the connection to it is gone. */
export function isPgConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (PG_CONNECTION_CODES.test(code) || NODE_CONNECTION_CODES.has(code))) return true;
  if (err instanceof AggregateError) return err.errors.some(isPgConnectionError);
  return PG_CONNECTION_MESSAGES.test(err.message);
}

/** Tracks whether PostgreSQL answers, from the outcomes its callers report. */
export class PgConnectionWatch {
  private lostAt: number | undefined;

  constructor(private readonly log: Logger) {}

  get lost(): boolean {
    return this.lostAt !== undefined;
  }

  /** A call failed; only a connection failure (not a bad statement) counts. */
  failed(err: unknown): void {
    if (this.lostAt !== undefined || !isPgConnectionError(err)) return;
    this.lostAt = Date.now();
    this.log.warn({ postgres: 'down', reason: (err as Error).message }, 'postgres connection lost');
  }

  /** A call succeeded. */
  succeeded(): void {
    if (this.lostAt === undefined) return;
    const downMs = Date.now() - this.lostAt;
    this.lostAt = undefined;
    this.log.info({ postgres: 'up', downMs }, 'postgres connection restored');
  }
}
