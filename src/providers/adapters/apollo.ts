// Apollo People Enrichment (POST /people/match): email, LinkedIn profile, or company of one person.
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

export const APOLLO_BASE_URL = 'https://api.apollo.io/api/v1';

// Apollo returns this placeholder where an email exists but was not revealed to the account.
const LOCKED_EMAIL = /^email_not_unlocked@/i;

/** Apollo's per-window headers: limit, used and left for the minute, hour and day (per team, per endpoint). */
export function apolloRateLimits(headers: ResponseHeaders): RateLimitObservation[] {
  const windows: [RateLimitObservation['window'], string, string, string][] = [
    ['minute', 'x-rate-limit-minute', 'x-minute-usage', 'x-minute-requests-left'],
    ['hour', 'x-rate-limit-hourly', 'x-hourly-usage', 'x-hourly-requests-left'],
    ['day', 'x-rate-limit-24-hour', 'x-24-hour-usage', 'x-24-hour-requests-left'],
  ];
  return observed(
    windows.map(([window, limitH, usageH, leftH]) => {
      const limit = numberHeader(headers, limitH);
      const usage = numberHeader(headers, usageH);
      const left = numberHeader(headers, leftH) ?? (limit !== undefined && usage !== undefined ? Math.max(0, limit - usage) : undefined);
      return { window, limit, remaining: left };
    }),
  );
}

/** The wanted field of a matched person. */
function answerOf(person: Record<string, unknown>, want: LookupWant): { value: string; details: Record<string, unknown> } | null {
  const org = record(person.organization);
  if (want === 'email') {
    const email = text(person.email);
    return email && !LOCKED_EMAIL.test(email) ? { value: email.toLowerCase(), details: { emailStatus: person.email_status ?? null, title: person.title ?? null } } : null;
  }
  if (want === 'social') {
    const url = text(person.linkedin_url);
    return url ? { value: url, details: { twitterUrl: person.twitter_url ?? null, githubUrl: person.github_url ?? null, facebookUrl: person.facebook_url ?? null } } : null;
  }
  if (want === 'company') {
    const domain = text(org.primary_domain) ?? text(org.website_url);
    return domain ? { value: domain, details: { name: org.name ?? null, industry: org.industry ?? null, employees: org.estimated_num_employees ?? null } } : null;
  }
  return null;
}

/**
 * Maps a match: `person: null` is a free miss (a 200 is not a hit); a matched person costs
 * one credit even when the wanted field is missing, since Apollo bills per person enriched.
 */
export function mapApolloMatch(answer: Extract<JsonAnswer, { kind: 'response' }>, want: LookupWant, now: number): ProviderOutcome {
  const body = record(answer.body);
  const message = text(body.error) ?? text(body.message);
  switch (answer.status) {
    case 429:
      return throttled(retryAfterMs(answer.headers, now), now);
    case 401:
    case 403:
    case 422:
      return failure(`apollo answered ${answer.status}${message ? `: ${message}` : ''}`, false);
    case 402:
      // Not in Apollo's public docs: the conventional "payment required", taken as credits spent.
      return quotaExhausted();
    default:
      if (answer.status < 200 || answer.status >= 300) return unexpectedStatus('apollo', answer.status, message);
  }
  if (body.person === null || body.person === undefined) return miss(0);
  const found = answerOf(record(body.person), want);
  const credits = typeof body.credits_consumed === 'number' ? body.credits_consumed : 1;
  return found ? hit(found.value, credits, found.details) : miss(credits);
}

/** The Apollo adapter. */
export function createApolloProvider(options: AdapterOptions, now: () => number = Date.now): Provider {
  const base = options.baseUrl ?? APOLLO_BASE_URL;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const wants: LookupWant[] = ['email', 'social', 'company'];

  function endpoint(input: LookupInput): string | null {
    if (!wants.includes(input.want)) return null;
    // A name alone gets a 200 that enriches nothing: ask only with a key that can identify a person.
    const named = Boolean(fullNameOf(input));
    const identified = Boolean(text(input.email) || text(input.linkedinUrl) || (named && (text(input.domain) || text(input.company))));
    return identified ? 'people/match' : null;
  }

  async function lookup(input: LookupInput, opts: LookupOptions = {}): Promise<ProviderResult> {
    const ep = endpoint(input);
    if (ep === null) return notAskable('apollo', input);
    const body = {
      first_name: text(input.firstName),
      last_name: text(input.lastName),
      name: text(input.fullName),
      email: text(input.email),
      organization_name: text(input.company),
      domain: text(input.domain),
      linkedin_url: text(input.linkedinUrl),
      // Personal emails and phones cost more and phones arrive only by webhook: not asked here.
      reveal_personal_emails: false,
      reveal_phone_number: false,
    };
    const answer = await sendJson(
      { method: 'POST', url: joinUrl(base, ep), headers: { 'x-api-key': options.apiKey, 'cache-control': 'no-cache' }, body, timeoutMs, signal: opts.signal },
      now,
    );
    if (answer.kind === 'no_response') return result('apollo', ep, answer, noResponseOutcome(answer, opts.signal?.aborted === true));
    return result('apollo', ep, answer, mapApolloMatch(answer, input.want, now()), apolloRateLimits(answer.headers));
  }

  return { name: 'apollo', wants, endpoint, lookup };
}
