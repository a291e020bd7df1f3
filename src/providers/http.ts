// One JSON call to a provider over the global fetch, with a timeout, turned into facts adapters map.
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

/** What came back: a response (any status), or no response at all. */
export type JsonAnswer =
  | { kind: 'response'; status: number; headers: Headers; body: unknown; latencyMs: number }
  | { kind: 'no_response'; timedOut: boolean; message: string; latencyMs: number };

/** Sends one request; never throws. A body that is not JSON is kept as its text. */
export async function sendJson(req: JsonRequest, now: () => number = Date.now): Promise<JsonAnswer> {
  const started = now();
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  let payload: string | undefined;
  if (req.body !== undefined) {
    payload = JSON.stringify(req.body);
    headers['content-type'] = 'application/json';
  }
  try {
    const res = await fetch(req.url, { method: req.method, headers, body: payload, signal });
    const raw = await res.text();
    let body: unknown = raw;
    try {
      body = raw === '' ? null : JSON.parse(raw);
    } catch {
      // not JSON (a proxy's HTML error page): adapters see the text and map by status
    }
    return { kind: 'response', status: res.status, headers: res.headers, body, latencyMs: now() - started };
  } catch (err) {
    const timedOut = timeout.aborted;
    const message = timedOut ? `no answer within ${req.timeoutMs} ms` : req.signal?.aborted ? 'aborted' : `request failed: ${(err as Error).message}`;
    return { kind: 'no_response', timedOut, message, latencyMs: now() - started };
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
export function retryAfterMs(headers: Headers, now: number): number | null {
  const v = headers.get('retry-after')?.trim();
  if (!v) return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A header as a finite number, or undefined. */
export function numberHeader(headers: Headers, name: string): number | undefined {
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
