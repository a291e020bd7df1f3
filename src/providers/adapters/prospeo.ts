// Prospeo Enrich Person (POST /enrich-person): verified email, mobile, profile or company of one person.
import { type JsonAnswer, type ResponseHeaders, joinUrl, noResponseOutcome, notAskable, numberHeader, observed, record, result, retryAfterMs, sendJson, unexpectedStatus } from '../http.js';
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
  fullNameOf,
  hit,
  miss,
  quotaExhausted,
  text,
  throttled,
} from '../provider.js';

export const PROSPEO_BASE_URL = 'https://api.prospeo.io';

// Prospeo bills 1 credit per match and 10 when a mobile is revealed; re-enriching is free.
const MATCH_CREDITS = 1;
const MOBILE_CREDITS = 10;

/** Prospeo's x-*-request-left headers, with their reset delays in seconds. */
export function prospeoRateLimits(headers: ResponseHeaders, now: number): RateLimitObservation[] {
  const at = (name: string) => {
    const s = numberHeader(headers, name);
    return s === undefined ? undefined : now + s * 1000;
  };
  return observed([
    { window: 'second', limit: numberHeader(headers, 'x-second-rate-limit') },
    { window: 'minute', remaining: numberHeader(headers, 'x-minute-request-left'), resetAt: at('x-minute-reset-seconds') },
    { window: 'day', remaining: numberHeader(headers, 'x-daily-request-left'), resetAt: at('x-daily-reset-seconds') },
  ]);
}

/** The wanted field of a matched person, if revealed. */
function answerOf(body: Record<string, unknown>, want: LookupWant): string | undefined {
  const person = record(body.person);
  const company = record(body.company);
  switch (want) {
    case 'email': {
      const email = record(person.email);
      // An unrevealed address is masked ("jo*****@acme.com") and useless.
      return email.revealed === false || email.status === 'UNAVAILABLE' ? undefined : text(email.email)?.toLowerCase();
    }
    case 'phone': {
      const mobile = record(person.mobile);
      return mobile.revealed === false || mobile.status === 'UNAVAILABLE' ? undefined : text(mobile.mobile);
    }
    case 'social':
      return text(person.linkedin_url);
    case 'company':
      return text(company.domain) ?? text(company.website);
    default:
      return undefined;
  }
}

/**
 * Maps an answer: every body carries `error`; NO_MATCH is a free miss, RATE_LIMITED (429)
 * a throttle, INSUFFICIENT_CREDITS the quota; `free_enrichment` means this match cost nothing.
 */
export function mapProspeoEnrich(answer: Extract<JsonAnswer, { kind: 'response' }>, want: LookupWant, now: number): ProviderOutcome {
  const body = record(answer.body);
  const code = text(body.error_code);
  if (answer.status === 429 || code === 'RATE_LIMITED') {
    const minuteReset = numberHeader(answer.headers, 'x-minute-reset-seconds');
    return throttled(retryAfterMs(answer.headers, now) ?? (minuteReset !== undefined ? minuteReset * 1000 : null), now);
  }
  if (code === 'NO_MATCH') return miss(0);
  if (code === 'INSUFFICIENT_CREDITS') return quotaExhausted();
  if (code === 'INVALID_API_KEY' || code === 'INVALID_DATAPOINTS' || code === 'INVALID_REQUEST' || answer.status === 400 || answer.status === 401) {
    return failure(`prospeo answered ${answer.status}: ${code ?? 'request refused'}`, false);
  }
  if (answer.status !== 200 || body.error !== false) return unexpectedStatus('prospeo', answer.status, code);
  const value = answerOf(body, want);
  const mobile = record(record(body.person).mobile);
  const credits = body.free_enrichment === true ? 0 : mobile.revealed === true ? MOBILE_CREDITS : MATCH_CREDITS;
  return value ? hit(value, credits, { personId: record(body.person).person_id ?? null, jobTitle: record(body.person).current_job_title ?? null }) : miss(credits);
}

/** The Prospeo adapter. */
export function createProspeoProvider(options: AdapterOptions, now: () => number = Date.now): Provider {
  const base = options.baseUrl ?? PROSPEO_BASE_URL;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const wants: LookupWant[] = ['email', 'phone', 'social', 'company'];

  function endpoint(input: LookupInput): string | null {
    if (!wants.includes(input.want)) return null;
    const named = Boolean(fullNameOf(input));
    const askable = text(input.linkedinUrl) || text(input.email) || (named && (text(input.domain) || text(input.company)));
    return askable ? 'enrich-person' : null;
  }

  async function lookup(input: LookupInput, opts: LookupOptions = {}): Promise<ProviderResult> {
    const ep = endpoint(input);
    if (ep === null) return notAskable('prospeo', input);
    const body = {
      // Pay only when the email is verified; a mobile is asked (and paid 10x) only when it is the want.
      only_verified_email: true,
      enrich_mobile: input.want === 'phone',
      only_verified_mobile: input.want === 'phone',
      data: {
        first_name: text(input.firstName),
        last_name: text(input.lastName),
        full_name: text(input.fullName),
        linkedin_url: text(input.linkedinUrl),
        email: text(input.email),
        company_name: text(input.company),
        company_website: text(input.domain),
      },
    };
    const answer = await sendJson({ method: 'POST', url: joinUrl(base, ep), headers: { 'x-key': options.apiKey }, body, timeoutMs, signal: opts.signal }, now);
    if (answer.kind === 'no_response') return result('prospeo', ep, answer, noResponseOutcome(answer, opts.signal?.aborted === true));
    return result('prospeo', ep, answer, mapProspeoEnrich(answer, input.want, now()), prospeoRateLimits(answer.headers, now()));
  }

  return { name: 'prospeo', wants, endpoint, lookup };
}
