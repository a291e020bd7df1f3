// `enrichd lists import <file.csv>`: streams a CSV file to POST /v1/lists with progress, prints the new list.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename, extname } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import cliProgress from 'cli-progress';
import { signToken } from '../api/token.js';
import type { Config } from '../config.js';

export interface ListsImportOptions {
  file: string;
  /** the list name (default: the file name without its extension) */
  name?: string;
  /** API base URL, without a trailing slash */
  url: string;
  token: string;
  /** print the API's whole answer as JSON instead of one line */
  json: boolean;
  out: (line: string) => void;
  err: (line: string) => void;
  /** where progress goes; a TTY gets a bar, anything else plain lines */
  progress: NodeJS.WriteStream;
}

interface Answer {
  status: number;
  body: unknown;
}

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);

/** Progress as bytes leave the file: a bar on a terminal, a line per tenth (and at the end) otherwise. */
function progressMeter(total: number, stream: NodeJS.WriteStream): { counter: Transform; done: () => void; stop: () => void } {
  let sent = 0;
  let bar: cliProgress.SingleBar | null = null;
  let lastTenth = -1;
  if (stream.isTTY) {
    bar = new cliProgress.SingleBar(
      { stream, format: 'uploading {bar} {percentage}% | {sentMb}/{totalMb} MB | {eta_formatted} left', hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(total, 1), 0, { sentMb: '0.0', totalMb: mb(total) });
  }
  const counter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      sent += chunk.length;
      if (bar) {
        bar.update(sent, { sentMb: mb(sent) });
      } else {
        const tenth = total > 0 ? Math.floor((sent / total) * 10) : 10;
        if (tenth > lastTenth && tenth < 10) {
          lastTenth = tenth;
          stream.write(`uploaded ${tenth * 10}% (${mb(sent)} of ${mb(total)} MB)\n`);
        }
      }
      callback(null, chunk);
    },
  });
  // The bar's redraw timer keeps the process alive: every way out of the upload stops it, once.
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  const done = () => {
    stop();
    stream.write(`uploaded 100% (${mb(sent)} MB); waiting for the server to store the rows\n`);
  };
  return { counter, done, stop };
}

/** POSTs the file as a stream; resolves with the answer, which may come before the whole file is sent (a refused CSV). */
function upload(o: ListsImportOptions, name: string, size: number): Promise<Answer> {
  const target = new URL(`${o.url}/v1/lists?name=${encodeURIComponent(name)}`);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Answer>((resolve, reject) => {
    const file = createReadStream(o.file);
    const { counter, done, stop } = progressMeter(size, o.progress);
    const req = send(target, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': 'text/csv; charset=utf-8', 'content-length': String(size) },
    });
    let answered = false;
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      stop();
      // An early answer (the server found a bad line) ends the upload: stop reading the file.
      file.unpipe(counter);
      counter.unpipe(req);
      file.destroy();
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      stop();
      if (!answered) reject(err);
    });
    file.on('error', (err) => {
      stop();
      req.destroy();
      reject(err);
    });
    file.on('end', done);
    file.pipe(counter).pipe(req);
  });
}

/** Runs the import; returns the exit code (0 imported, 1 refused or failed). */
export async function importListFile(o: ListsImportOptions): Promise<number> {
  let size: number;
  try {
    const s = await stat(o.file);
    if (!s.isFile()) throw new Error('not a regular file');
    size = s.size;
  } catch (err) {
    o.err(`cannot read ${o.file}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const name = o.name ?? basename(o.file, extname(o.file));
  let answer: Answer;
  try {
    answer = await upload(o, name, size);
  } catch (err) {
    o.err(`the upload to ${o.url} failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  if (answer.status !== 201) {
    const error = (answer.body as { error?: { code?: string; message?: string } } | null)?.error;
    o.err(error?.message ? `refused (${answer.status} ${error.code}): ${error.message}` : `refused (${answer.status}): ${JSON.stringify(answer.body)}`);
    return 1;
  }
  const list = answer.body as { id: string; name: string; entryCount: number; columns: { name: string; mappedTo: string | null }[] };
  if (o.json) {
    o.out(JSON.stringify(list, null, 2));
  } else {
    const mapped = list.columns.filter((c) => c.mappedTo !== null).length;
    o.out(`list ${list.id}: ${list.entryCount} entries, ${list.columns.length} columns (${mapped} recognised), name "${list.name}"`);
  }
  return 0;
}

/** The API URL and token as `enrichd submit` finds them: --url or http://HOST:PORT; --token or one signed with JWT_SECRET for --tenant. */
export async function resolveApiAccess(
  c: Pick<Config, 'host' | 'port' | 'jwt'>,
  o: { url?: string; token?: string; tenant: string },
): Promise<{ url: string; token: string } | { problem: string }> {
  let token = o.token;
  if (!token) {
    if (!c.jwt.secret) return { problem: 'give --token, or set JWT_SECRET so a token can be signed' };
    token = await signToken(c.jwt.secret, { tenantId: o.tenant, sub: 'enrichd-cli', ttl: '1h', issuer: c.jwt.issuer, audience: c.jwt.audience });
  }
  return { url: (o.url ?? `http://${c.host}:${c.port}`).replace(/\/+$/, ''), token };
}
