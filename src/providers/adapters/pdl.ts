// People Data Labs Person Enrichment (GET /person/enrich): email, phone, profile or company of one person.
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
  fullNameOf,
  hit,
  miss,
  quotaExhausted,
  text,
  throttled,
} from '../provider.js';

export const PDL_BASE_URL = 'https://api.peopledatalabs.com/v5';

export interface PdlOptions extends AdapterOptions {
  /** min_likelihood (1-10, logarithmic); below it PDL answers a free 404. Default 6. */
  minLikelihood?: number;
}

// `required` makes a profile without the wanted field a free 404 instead of a charged 200.
const REQUIRED: Partial<Record<LookupWant, string>> = { email: 'work_email', phone: 'mobile_phone', social: 'linkedin_url', company: 'job_company_website' };

/**
 * PDL's x-ratelimit-limit and -remaining carry one figure per window as a Python-style dict
 * ({'minute': 1000}); the official SDK swaps the quotes and parses JSON, as here.
 */
function windowFigures(v: string | null): Partial<Record<string, number>> {
  if (!v) return {};
  const t = v.trim();
  if (/^\d+$/.test(t)) return { minute: Number(t) };
  try {
    const parsed = record(JSON.parse(t.replace(/'/g, '"')));
    const out: Partial<Record<string, number>> = {};
    for (const [k, n] of Object.entries(parsed)) if (typeof n === 'number') out[k] = n;
    return out;
  } catch {
    return {};
  }
}

const PDL_WINDOWS: Partial<Record<string, RateLimitObservation['window']>> = { second: 'second', minute: 'minute', hour: 'hour', day: 'day' };

/** Rate windows from x-ratelimit-*, and the credit balance from x-totallimit-remaining. */
export function pdlRateLimits(headers: ResponseHeaders, now: number): RateLimitObservation[] {
  const limits = windowFigures(headers.get('x-ratelimit-limit'));
  const remaining = windowFigures(headers.get('x-ratelimit-remaining'));
  const reset = resetAt(headers.get('x-ratelimit-reset'), now);
  const out: RateLimitObservation[] = [];
  for (const key of new Set([...Object.keys(limits), ...Object.keys(remaining)])) {
    const window = PDL_WINDOWS[key];
    if (window) out.push({ window, limit: limits[key], remaining: remaining[key], resetAt: window === 'minute' ? reset : undefined });
  }
  out.push({ window: 'credits', remaining: numberHeader(headers, 'x-totallimit-remaining') });
  return observed(out);
}

/** The wanted field of an enriched profile. */
function answerOf(data: Record<string, unknown>, want: LookupWant): string | undefined {
  const first = (list: unknown, key?: string): string | undefined => {
    const item: unknown = Array.isArray(list) ? list[0] : undefined;
    return key ? text(record(item)[key]) : text(item);
  };
  switch (want) {
    case 'email':
      return text(data.work_email) ?? first(data.emails, 'address');
    case 'phone':
      return text(data.mobile_phone) ?? first(data.phone_numbers);
    case 'social':
      return text(data.linkedin_url);
    case 'company':
      return text(data.job_company_website) ?? text(data.job_company_name);
    default:
      return undefined;
  }
}

/**
 * Maps an enrichment: 200 is a match billed one credit (x-call-credits-spent when sent),
 * 404 a free miss, 402 credits spent, 429 the 60-second window full.
 */
export function mapPdlEnrich(answer: Extract<JsonAnswer, { kind: 'response' }>, want: LookupWant, now: number): ProviderOutcome {
  const body = record(answer.body);
  const message = text(record(body.error).message) ?? text(record(body.error).type);
  const spent = numberHeader(answer.headers, 'x-call-credits-spent');
  switch (answer.status) {
    case 200: {
      const data = record(body.data);
      const value = answerOf(data, want);
      const credits = spent ?? 1;
      return value
        ? hit(want === 'email' ? value.toLowerCase() : value, credits, { likelihood: body.likelihood ?? null, fullName: data.full_name ?? null, jobTitle: data.job_title ?? null })
        : miss(credits);
    }
    case 404:
      return miss(spent ?? 0);
    case 402:
      return quotaExhausted();
    case 429: {
      const fromReset = resetAt(answer.headers.get('x-ratelimit-reset'), now);
      const delay = retryAfterMs(answer.headers, now) ?? (fromReset !== undefined ? Math.max(0, fromReset - now) : null);
      return throttled(delay, now);
    }
    case 400:
    case 401:
    case 403:
      return failure(`pdl answered ${answer.status}${message ? `: ${message}` : ''}`, false);
    default:
      return unexpectedStatus('pdl', answer.status, message);
  }
}

/** The People Data Labs adapter. */
export function createPdlProvider(options: PdlOptions, now: () => number = Date.now): Provider {
  const base = options.baseUrl ?? PDL_BASE_URL;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // 6 keeps matches precise enough for contact data (PDL's own default, 2, admits weak ones).
  const minLikelihood = options.minLikelihood ?? 6;
  const wants: LookupWant[] = ['email', 'phone', 'social', 'company'];

  function params(input: LookupInput): Record<string, string | number | undefined> | null {
    if (!wants.includes(input.want)) return null;
    const email = text(input.email);
    const phone = text(input.phone);
    const profile = text(input.linkedinUrl);
    const first = text(input.firstName);
    const last = text(input.lastName);
    const name = first && last ? undefined : fullNameOf(input);
    const company = text(input.domain) ?? text(input.company);
    // PDL needs a unique key, or a name together with a second fact (here the company).
    const named = Boolean((first && last) || name);
    if (!email && !phone && !profile && !(named && company)) return null;
    return {
      email,
      phone,
      profile,
      first_name: first && last ? first : undefined,
      last_name: first && last ? last : undefined,
      name,
      company,
      min_likelihood: minLikelihood,
      required: REQUIRED[input.want],
    };
  }

  function endpoint(input: LookupInput): string | null {
    return params(input) === null ? null : 'person/enrich';
  }

  async function lookup(input: LookupInput, opts: LookupOptions = {}): Promise<ProviderResult> {
    const p = params(input);
    if (p === null) return notAskable('pdl', input);
    const answer = await sendJson({ method: 'GET', url: `${joinUrl(base, 'person/enrich')}?${query(p)}`, headers: { 'x-api-key': options.apiKey }, timeoutMs, signal: opts.signal }, now);
    if (answer.kind === 'no_response') return result('pdl', 'person/enrich', answer, noResponseOutcome(answer, opts.signal?.aborted === true));
    return result('pdl', 'person/enrich', answer, mapPdlEnrich(answer, input.want, now()), pdlRateLimits(answer.headers, now()));
  }

  return { name: 'pdl', wants, endpoint, lookup };
}
