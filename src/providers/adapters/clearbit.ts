// Clearbit (legacy, now HubSpot Breeze): Combined Find by email, Company Find by domain; 202 = queued for a webhook.
import { randomUUID } from 'node:crypto';
import { type JsonAnswer, type ResponseHeaders, joinUrl, noResponseOutcome, notAskable, numberHeader, observed, query, record, resetAt, result, retryAfterMs, sendJson, unexpectedStatus } from '../http.js';
import {
  type AdapterOptions,
  DEFAULT_TIMEOUT_MS,
  type LookupInput,
  type LookupOptions,
  type LookupWant,
  type Provider,
  type ProviderOutcome,
  type ProviderResult,
  type RateLimitObservation,
  failure,
  hit,
  miss,
  queued,
  quotaExhausted,
  text,
  throttled,
} from '../provider.js';

export const CLEARBIT_PERSON_URL = 'https://person.clearbit.com';
export const CLEARBIT_COMPANY_URL = 'https://company.clearbit.com';

export interface ClearbitOptions extends AdapterOptions {
  /** where Company Find goes; defaults to baseUrl when that is set (a simulator serves both), else Clearbit's company host */
  companyBaseUrl?: string;
  /** makes the webhook correlation id (tests pin it) */
  newRequestId?: () => string;
}

/** The legacy X-RateLimit-* headers (600 per minute per API). */
export function clearbitRateLimits(headers: ResponseHeaders, now: number): RateLimitObservation[] {
  return observed([
    { window: 'minute', limit: numberHeader(headers, 'x-ratelimit-limit'), remaining: numberHeader(headers, 'x-ratelimit-remaining'), resetAt: resetAt(headers.get('x-ratelimit-reset'), now) },
  ]);
}

/** The wanted field of a Combined (person + company) or Company answer. */
function answerOf(body: Record<string, unknown>, want: LookupWant): { value: string; details: Record<string, unknown> } | null {
  // Company Find answers the company itself; Combined Find nests it beside the person.
  const company = 'person' in body || 'company' in body ? record(body.company) : body;
  const person = record(body.person);
  if (want === 'company') {
    const domain = text(company.domain);
    return domain ? { value: domain, details: { name: company.name ?? null, employees: record(company.metrics).employees ?? null } } : null;
  }
  if (want === 'social') {
    const handle = text(record(person.linkedin).handle);
    return handle ? { value: `https://www.linkedin.com/${handle.replace(/^\/+/, '')}`, details: { twitter: record(person.twitter).handle ?? null, github: record(person.github).handle ?? null } } : null;
  }
  return null;
}

/**
 * Maps an answer: 200 a match (a credit is counted when data is appended), 202 queued (the
 * answer comes to the webhook with our id), 404 a miss, 429 a throttle.
 */
export function mapClearbitFind(answer: Extract<JsonAnswer, { kind: 'response' }>, want: LookupWant, requestId: string, now: number): ProviderOutcome {
  const body = record(answer.body);
  const message = text(record(body.error).message) ?? text(record(body.error).type);
  switch (answer.status) {
    case 200: {
      const found = answerOf(body, want);
      return found ? hit(found.value, 1, found.details) : miss(1);
    }
    case 202:
      return queued(requestId);
    case 404:
      return miss(0);
    case 429: {
      const reset = resetAt(answer.headers.get('x-ratelimit-reset'), now);
      return throttled(retryAfterMs(answer.headers, now) ?? (reset !== undefined ? Math.max(0, reset - now) : null), now);
    }
    case 402:
      // Clearbit's legacy docs: over the plan's quota on this endpoint.
      return quotaExhausted();
    case 400:
    case 401:
    case 403:
    case 422:
      return failure(`clearbit answered ${answer.status}${message ? `: ${message}` : ''}`, false);
    default:
      return unexpectedStatus('clearbit', answer.status, message);
  }
}

/**
 * Maps a webhook Clearbit posts for a queued lookup ({id, status, type, body}) to the
 * lookup's outcome; null when the payload is not one.
 */
export function parseClearbitWebhook(payload: unknown, want: LookupWant): { requestId: string; outcome: ProviderOutcome } | null {
  const p = record(payload);
  const requestId = text(p.id);
  if (!requestId || typeof p.status !== 'number') return null;
  if (p.status === 404) return { requestId, outcome: miss(0) };
  if (p.status !== 200) return { requestId, outcome: failure(`clearbit webhook carried status ${p.status}`, true) };
  const found = answerOf(record(p.body), want);
  return { requestId, outcome: found ? hit(found.value, 1, found.details) : miss(1) };
}

/** The Clearbit adapter. */
export function createClearbitProvider(options: ClearbitOptions, now: () => number = Date.now): Provider {
  const personBase = options.baseUrl ?? CLEARBIT_PERSON_URL;
  const companyBase = options.companyBaseUrl ?? options.baseUrl ?? CLEARBIT_COMPANY_URL;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const newRequestId = options.newRequestId ?? randomUUID;
  // HTTP Basic with the key as user name and an empty password.
  const auth = `Basic ${Buffer.from(`${options.apiKey}:`).toString('base64')}`;

  function endpoint(input: LookupInput): string | null {
    if (input.want === 'social') return text(input.email) ? 'combined/find' : null;
    if (input.want === 'company') return text(input.email) ? 'combined/find' : text(input.domain) ? 'companies/find' : null;
    return null;
  }

  async function lookup(input: LookupInput, opts: LookupOptions = {}): Promise<ProviderResult> {
    const ep = endpoint(input);
    if (ep === null) return notAskable('clearbit', input);
    const requestId = newRequestId();
    const url =
      ep === 'combined/find'
        ? `${joinUrl(personBase, 'v2/combined/find')}?${query({ email: text(input.email), webhook_id: requestId })}`
        : `${joinUrl(companyBase, 'v2/companies/find')}?${query({ domain: text(input.domain), webhook_id: requestId })}`;
    const answer = await sendJson({ method: 'GET', url, headers: { authorization: auth }, timeoutMs, signal: opts.signal }, now);
    if (answer.kind === 'no_response') return result('clearbit', ep, answer, noResponseOutcome(answer, opts.signal?.aborted === true));
    return result('clearbit', ep, answer, mapClearbitFind(answer, input.want, requestId, now()), clearbitRateLimits(answer.headers, now()));
  }

  return { name: 'clearbit', wants: ['social', 'company'], endpoint, lookup };
}
