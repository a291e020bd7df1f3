// One POST of a delivery: guarded DNS, a timeout, no redirects followed, the answer measured.
import http from 'node:http';
import https from 'node:https';
import { guardedLookup, webhookTargetProblem } from './ssrf.js';

/** What one attempt came to: a status code, or an error (timeout, refusal, network). */
export interface SendResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface SendOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  /** aborts the attempt (shutdown); it then resolves with an error at once */
  signal?: AbortSignal;
}

/** The most of a response body read (and thrown away): enough to finish the exchange politely. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs a JSON body. Redirects are not followed: a 3xx is an answer like any non-2xx (and is
 * retried), so a target cannot bounce the request onto an internal address.
 */
export function sendWebhook(url: string, headers: Record<string, string>, body: string, opts: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const done = (statusCode: number | null, error: string | null): SendResult => ({ statusCode, error, durationMs: Math.round(performance.now() - started) });
  // Checked again at each send: literal addresses never reach the lookup below.
  const problem = webhookTargetProblem(url, opts.allowPrivate);
  if (problem) return Promise.resolve(done(null, `refused: the URL ${problem}`));
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'enrichd-webhooks/1' },
        lookup: guardedLookup(opts.allowPrivate),
        // one connection per attempt: a pooled socket would skip the lookup's check next time
        agent: false,
      },
      (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        const status = res.statusCode ?? null;
        const ok = status !== null && status >= 200 && status < 300;
        const error = ok ? null : status !== null && status >= 300 && status < 400 ? `redirect to ${String(res.headers.location ?? '?')} not followed` : `HTTP ${status ?? '?'}`;
        res.on('end', () => finish(done(status, error)));
        res.on('close', () => finish(done(status, error)));
        res.on('error', () => finish(done(status, error)));
      },
    );
    // The whole exchange, connect to last byte, within the timeout.
    const timer = setTimeout(() => {
      finish(done(null, `timed out after ${opts.timeoutMs} ms`));
      req.destroy();
    }, opts.timeoutMs);
    const abort = () => {
      finish(done(null, 'aborted at shutdown'));
      req.destroy();
    };
    if (opts.signal?.aborted) abort();
    opts.signal?.addEventListener('abort', abort, { once: true });
    req.on('close', () => opts.signal?.removeEventListener('abort', abort));
    req.on('error', (err: NodeJS.ErrnoException) => finish(done(null, err.code === 'EBLOCKEDTARGET' ? err.message : `${err.code ?? 'error'}: ${err.message}`)));
    req.end(body);
  });
}
