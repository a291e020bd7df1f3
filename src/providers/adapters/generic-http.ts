// A provider defined as data (generic-http-schema.ts): URL template, auth from a variable, response mapping.
import { type JsonAnswer, noResponseOutcome, notAskable, record, result, retryAfterMs, sendJson, unexpectedStatus } from '../http.js';
import { readPath } from '../json-path.js';
import {
  DEFAULT_TIMEOUT_MS,
  type LookupInput,
  type LookupOptions,
  type Provider,
  type ProviderOutcome,
  type ProviderResult,
  failure,
  forbiddenSubject,
  fullNameOf,
  hit,
  miss,
  quotaExhausted,
  text,
  throttled,
} from '../provider.js';
import type { GenericProviderDefinition } from './generic-http-schema.js';

/** A placeholder's value from the input; undefined when the input lacks it. */
function placeholder(input: LookupInput, name: string): string | undefined {
  switch (name) {
    case 'fullName':
      return fullNameOf(input);
    case 'want':
      return input.want;
    case 'firstName':
    case 'lastName':
    case 'domain':
    case 'company':
    case 'email':
    case 'linkedinUrl':
    case 'phone':
      return text(input[name]);
    default:
      return undefined;
  }
}

/** Fills {placeholders} in a string; null when one has no value. */
function fill(template: string, input: LookupInput, encode: (s: string) => string): string | null {
  let missing = false;
  const out = template.replace(/\{([^}]*)\}/g, (_m, name: string) => {
    const v = placeholder(input, name);
    if (v === undefined) missing = true;
    return v === undefined ? '' : encode(v);
  });
  return missing ? null : out;
}

/** Fills a JSON body: a string leaf that is one whole placeholder takes its value, or drops the key when absent. */
function fillBody(value: unknown, input: LookupInput): unknown {
  if (typeof value === 'string') {
    const whole = /^\{([^}]*)\}$/.exec(value);
    if (whole) return placeholder(input, whole[1] ?? '');
    return fill(value, input, (s) => s) ?? undefined;
  }
  if (Array.isArray(value)) return value.map((v) => fillBody(v, input)).filter((v) => v !== undefined);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const filled = fillBody(v, input);
      if (filled !== undefined) out[k] = filled;
    }
    return out;
  }
  return value;
}

/** Maps an answer by the definition's status lists and JSON paths. */
export function mapGenericAnswer(def: GenericProviderDefinition, answer: Extract<JsonAnswer, { kind: 'response' }>, input: LookupInput, now: number): ProviderOutcome {
  const r = def.response;
  if (r.throttledStatuses.includes(answer.status)) return throttled(retryAfterMs(answer.headers, now), now);
  if (r.quotaStatuses.includes(answer.status)) return quotaExhausted();
  if (r.forbiddenStatuses.includes(answer.status)) return forbiddenSubject();
  if (r.missStatuses.includes(answer.status)) return miss(r.missCredits);
  if (answer.status < 200 || answer.status >= 300) return unexpectedStatus(def.name, answer.status);
  const path = typeof r.value === 'string' ? r.value : r.value[input.want];
  if (path === undefined) return failure(`${def.name} has no response.value path for ${input.want}`, false);
  const found = readPath(answer.body, path);
  const value = typeof found === 'number' ? String(found) : text(found);
  if (value === undefined) return miss(r.missCredits);
  const credits = typeof r.hitCredits === 'number' ? r.hitCredits : readPath(answer.body, r.hitCredits);
  return hit(value, typeof credits === 'number' && credits >= 0 ? credits : 1, { body: record(answer.body) });
}

/** A provider from its definition; `secret` is the value of its auth variable. */
export function createGenericHttpProvider(def: GenericProviderDefinition, secret: string | undefined, defaultTimeoutMs = DEFAULT_TIMEOUT_MS, now: () => number = Date.now): Provider {
  const timeoutMs = def.request.timeoutMs ?? defaultTimeoutMs;

  function url(input: LookupInput): string | null {
    if (!def.wants.includes(input.want)) return null;
    const filled = fill(def.request.url, input, encodeURIComponent);
    if (filled === null) return null;
    const auth = def.request.auth;
    if (!auth?.query || secret === undefined) return filled;
    const u = new URL(filled);
    u.searchParams.set(auth.query, secret);
    return u.toString();
  }

  function endpoint(input: LookupInput): string | null {
    return url(input) === null ? null : def.endpoint;
  }

  async function lookup(input: LookupInput, opts: LookupOptions = {}): Promise<ProviderResult> {
    const target = url(input);
    if (target === null) return notAskable(def.name, input);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(def.request.headers)) headers[k.toLowerCase()] = fill(v, input, (s) => s) ?? '';
    const auth = def.request.auth;
    if (auth && !auth.query && secret !== undefined) headers[auth.header.toLowerCase()] = `${auth.prefix}${secret}`;
    const body = def.request.method === 'POST' ? fillBody(def.request.body ?? {}, input) : undefined;
    const answer = await sendJson({ method: def.request.method, url: target, headers, body, timeoutMs, signal: opts.signal }, now);
    if (answer.kind === 'no_response') return result(def.name, def.endpoint, answer, noResponseOutcome(answer, opts.signal?.aborted === true));
    return result(def.name, def.endpoint, answer, mapGenericAnswer(def, answer, input, now()));
  }

  return { name: def.name, wants: def.wants, endpoint, lookup };
}
