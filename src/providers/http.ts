// One JSON call to a provider over node:http(s) through keep-alive agents, with a timeout, turned
// into facts adapters map. Not the global fetch: undici's web-streams path costs several times
// the CPU per call of a plain request on a kept-alive socket, and every lookup pays it.
import { Agent as HttpAgent, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupInput, ProviderOutcome, ProviderResult, RateLimitObservation } from './provider.js';
import { failure } from './provider.js';

export interface JsonRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  /** serialised as JSON for POST */
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Response headers by case-insensitive name (a fetch Headers object also fits). */
export interface ResponseHeaders {
  get(name: string): string | null;
}

/** What came back: a response (any status), or no response at all. */
export type JsonAnswer =
  | { kind: 'response'; status: number; headers: ResponseHeaders; body: unknown; latencyMs: number }
  | { kind: 'no_response'; timedOut: boolean; message: string; latencyMs: number };

// Sockets are kept between calls (a TLS handshake per lookup would cost more than the lookup).
// Idle ones close after 4 s, before a server's usual 5 s keep-alive timeout can race a reuse.
const AGENT_OPTIONS = { keepAlive: true, timeout: 4_000, scheduling: 'lifo' } as const;
const httpAgent = new HttpAgent(AGENT_OPTIONS);
const httpsAgent = new HttpsAgent(AGENT_OPTIONS);

/** Node's lower-cased header object read as ResponseHeaders (repeated headers joined as fetch does). */
function headersOf(raw: IncomingHttpHeaders): ResponseHeaders {
  return {
    get(name) {
      const v = raw[name.toLowerCase()];
      if (v === undefined) return null;
      return Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

/** A body that is not JSON (a proxy's HTML error page) is kept as its text: adapters map by status. */
function parseBody(raw: string): unknown {
  if (raw === '') return null;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Sends the request and reads the whole response; rejects on a network error or when `abort` fires. */
function exchange(req: JsonRequest, headers: Record<string, string>, payload: string | undefined, onAbort: (cancel: (err: Error) => void) => void): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const url = new URL(req.url);
    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const out = send(url, { method: req.method, headers, agent: https ? httpsAgent : httpAgent }, (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    out.on('error', reject);
    onAbort((err) => {
      out.destroy(err);
      reject(err);
    });
    out.end(payload);
  });
}

/** Sends one request; never throws. */
export async function sendJson(req: JsonRequest, now: () => number = Date.now): Promise<JsonAnswer> {
  const started = now();
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  let payload: string | undefined;
  if (req.body !== undefined) {
    payload = JSON.stringify(req.body);
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => void) | undefined;
  try {
    if (req.signal?.aborted) throw new Error('aborted');
    const res = await exchange(req, headers, payload, (cancel) => {
      // The timeout covers the whole exchange, body included, as AbortSignal.timeout did.
      timer = setTimeout(() => {
        timedOut = true;
        cancel(new Error('timeout'));
      }, req.timeoutMs);
      const signal = req.signal;
      if (signal) {
        const onAbort = () => cancel(new Error('aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        unlisten = () => signal.removeEventListener('abort', onAbort);
      }
    });
    return { kind: 'response', status: res.status, headers: headersOf(res.headers), body: parseBody(res.text), latencyMs: now() - started };
  } catch (err) {
    const message = timedOut ? `no answer within ${req.timeoutMs} ms` : req.signal?.aborted ? 'aborted' : `request failed: ${(err as Error).message}`;
    return { kind: 'no_response', timedOut, message, latencyMs: now() - started };
  } finally {
    clearTimeout(timer);
    unlisten?.();
  }
}

/** The outcome of a call that got no response: retryable unless the caller aborted it. */
export function noResponseOutcome(answer: Extract<JsonAnswer, { kind: 'no_response' }>, callerAborted: boolean): ProviderOutcome {
  return failure(answer.message, !callerAborted);
}

/** The default for statuses an adapter does not name: 5xx and 408 retry, other 4xx do not. */
export function unexpectedStatus(provider: string, status: number, detail?: string): ProviderOutcome {
  const retryable = status >= 500 || status === 408;
  return failure(`${provider} answered ${status}${detail ? `: ${detail}` : ''}`, retryable);
}

/** Puts an outcome together with what every call reports. */
export function result(provider: string, endpoint: string, answer: JsonAnswer, outcome: ProviderOutcome, rateLimits: RateLimitObservation[] = []): ProviderResult {
  return { ...outcome, provider, endpoint, status: answer.kind === 'response' ? answer.status : null, latencyMs: answer.latencyMs, rateLimits };
}

/** The result of a lookup the input cannot support: no call made, nothing to retry. */
export function notAskable(provider: string, input: LookupInput): ProviderResult {
  return { ...failure(`${provider} cannot answer ${input.want} from this input`, false), provider, endpoint: input.want, status: null, latencyMs: 0, rateLimits: [] };
}

/** Retry-After as ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(headers: ResponseHeaders, now: number): number | null {
  const v = headers.get('retry-after')?.trim();
  if (!v) return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A header as a finite number, or undefined. */
export function numberHeader(headers: ResponseHeaders, name: string): number | undefined {
  const v = headers.get(name);
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * A reset header as epoch ms. Providers send seconds until the reset, epoch seconds, or a
 * date; a number below ten years of seconds is taken as a delay.
 */
export function resetAt(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    return n < 315_360_000 ? now + Math.round(n * 1000) : Math.round(n * 1000);
  }
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : at;
}

/** Drops observations that carry no figure. */
export function observed(list: RateLimitObservation[]): RateLimitObservation[] {
  return list.filter((o) => o.limit !== undefined || o.remaining !== undefined || o.resetAt !== undefined);
}

/** A plain object, or an empty one: response bodies are untrusted. */
export function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** A query string from the set values only. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  return q.toString();
}

/** Joins a base URL and a path without doubling or dropping the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
