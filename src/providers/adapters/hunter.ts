// Hunter (API v2): the Email Finder for `email`, the Email Verifier for `email_verification`.
import { type JsonAnswer, joinUrl, noResponseOutcome, notAskable, query, record, result, retryAfterMs, sendJson, unexpectedStatus } from '../http.js';
import {
  type AdapterOptions,
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

export const HUNTER_BASE_URL = 'https://api.hunter.io/v2';

// Hunter bills a verification except when the result is unknown or disposable (help.hunter.io).
const UNBILLED_VERIFICATIONS = new Set(['unknown', 'disposable']);

/** The first error's details from Hunter's envelope {"errors":[{id, code, details}]}. */
function errorDetail(body: unknown): string | undefined {
  const first = record(Array.isArray(record(body).errors) ? (record(body).errors as unknown[])[0] : undefined);
  return text(first.details) ?? text(first.id);
}

/**
 * Statuses both endpoints share. Hunter inverts the usual pair: 403 is the per-second or
 * per-minute rate limit (retry), 429 is the monthly quota spent (do not retry); 451 means
 * Hunter was asked not to process this person. It sends no rate-limit headers.
 */
function mapCommonStatus(answer: Extract<JsonAnswer, { kind: 'response' }>, now: number): ProviderOutcome | null {
  switch (answer.status) {
    case 202:
      return throttled(retryAfterMs(answer.headers, now), now, 'pending');
    case 403:
      return throttled(retryAfterMs(answer.headers, now), now);
    case 429:
      return quotaExhausted();
    case 451:
      return forbiddenSubject();
    case 404:
      return miss(0);
    case 400:
    case 401:
    case 422:
      return failure(`hunter answered ${answer.status}: ${errorDetail(answer.body) ?? 'request refused'}`, false);
    default:
      return answer.status >= 200 && answer.status < 300 ? null : unexpectedStatus('hunter', answer.status, errorDetail(answer.body));
  }
}

/** Maps an Email Finder answer: a hit when data.email is set (1 search), else a free miss. */
export function mapHunterFinder(answer: Extract<JsonAnswer, { kind: 'response' }>, now: number): ProviderOutcome {
  const common = mapCommonStatus(answer, now);
  if (common) return common;
  const data = record(record(answer.body).data);
  const email = text(data.email);
  if (!email) return miss(0);
  return hit(email.toLowerCase(), 1, {
    score: data.score ?? null,
    acceptAll: data.accept_all ?? null,
    position: data.position ?? null,
    linkedinUrl: data.linkedin_url ?? null,
    verificationStatus: record(data.verification).status ?? null,
  });
}

/** Maps an Email Verifier answer: the status is the value; unknown and disposable results are not billed. */
export function mapHunterVerifier(answer: Extract<JsonAnswer, { kind: 'response' }>, now: number): ProviderOutcome {
  const common = mapCommonStatus(answer, now);
  if (common) return common;
  const data = record(record(answer.body).data);
  // `result` (deliverable/undeliverable/risky) is deprecated; `status` replaces it.
  const status = text(data.status) ?? text(data.result);
  if (!status) return miss(0);
  return hit(status, UNBILLED_VERIFICATIONS.has(status) ? 0 : 1, {
    score: data.score ?? null,
    acceptAll: data.accept_all ?? null,
    disposable: data.disposable ?? null,
    webmail: data.webmail ?? null,
    block: data.block ?? null,
  });
}

/** The Hunter adapter. */
export function createHunterProvider(options: AdapterOptions, now: () => number = Date.now): Provider {
  const base = options.baseUrl ?? HUNTER_BASE_URL;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  function finderQuery(input: LookupInput): string | null {
    const domain = text(input.domain);
    const company = text(input.company);
    const first = text(input.firstName);
    const last = text(input.lastName);
    const full = fullNameOf(input);
    if (!domain && !company) return null;
    if (!(first && last) && !full) return null;
    // The domain is the stronger key; the company name is Hunter's fallback.
    return query({ domain, company: domain ? undefined : company, first_name: first && last ? first : undefined, last_name: first && last ? last : undefined, full_name: first && last ? undefined : full });
  }

  function endpoint(input: LookupInput): string | null {
    if (input.want === 'email') return finderQuery(input) === null ? null : 'email-finder';
    if (input.want === 'email_verification') return text(input.email) ? 'email-verifier' : null;
    return null;
  }

  async function lookup(input: LookupInput, opts: LookupOptions = {}): Promise<ProviderResult> {
    const ep = endpoint(input);
    if (ep === null) return notAskable('hunter', input);
    const q = ep === 'email-finder' ? finderQuery(input) : query({ email: text(input.email) });
    // The key goes in a header, not the query string, so URLs in logs carry no secret.
    const answer = await sendJson({ method: 'GET', url: `${joinUrl(base, ep)}?${q}`, headers: { 'x-api-key': options.apiKey }, timeoutMs, signal: opts.signal }, now);
    if (answer.kind === 'no_response') return result('hunter', ep, answer, noResponseOutcome(answer, opts.signal?.aborted === true));
    const outcome = ep === 'email-finder' ? mapHunterFinder(answer, now()) : mapHunterVerifier(answer, now());
    return result('hunter', ep, answer, outcome, []);
  }

  return { name: 'hunter', wants: ['email', 'email_verification'], endpoint, lookup };
}
