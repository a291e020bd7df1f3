// Simulated Prospeo Enrich Person: {error:false, person, company}, NO_MATCH, RATE_LIMITED, INSUFFICIENT_CREDITS.
import { type SimProviderSpec, type SimReply, field, header, keyOk } from './spec.js';
import { createWindows } from './windows.js';

// Pro plan figures (help.prospeo.io "API Rate Limits"); informational, not enforced.
const PER_SECOND = 30;
const PER_MINUTE = 1800;
const PER_DAY = 500_000;

const prospeoError = (status: number, code: string): SimReply => ({ status, body: { error: true, error_code: code } });

/** Prospeo's simulated /enrich-person. */
export function createProspeoSpec(): SimProviderSpec {
  const windows = createWindows({ minute: 60_000, day: 86_400_000 });
  return {
    name: 'prospeo',
    throttleStatus: 429,

    route: (method, path) => (method === 'POST' && path === '/enrich-person' ? 'enrich-person' : null),

    authorized: (req, apiKey) => keyOk(header(req, 'x-key'), apiKey),

    parse(endpoint, req) {
      const data = (req.body !== null && typeof req.body === 'object' ? (req.body as Record<string, unknown>).data : undefined) ?? {};
      const input = {
        firstName: field(data, 'first_name'),
        lastName: field(data, 'last_name'),
        fullName: field(data, 'full_name'),
        linkedinUrl: field(data, 'linkedin_url'),
        email: field(data, 'email'),
        company: field(data, 'company_name'),
        domain: field(data, 'company_website'),
      };
      const named = Boolean((input.firstName && input.lastName) || input.fullName);
      if (!input.linkedinUrl && !input.email && !(named && (input.company || input.domain))) return prospeoError(400, 'INVALID_DATAPOINTS');
      const body = req.body as Record<string, unknown>;
      return { endpoint, input, flags: { enrichMobile: body.enrich_mobile === true, onlyVerifiedEmail: body.only_verified_email === true } };
    },

    answer(lookup, person, ctx) {
      if (!person) return { kind: 'miss', credits: 0, reply: prospeoError(400, 'NO_MATCH') };
      const mobileRevealed = lookup.flags.enrichMobile === true;
      const body = {
        error: false,
        // Enriching the same record again is free for the account's lifetime.
        free_enrichment: ctx.seenBefore,
        person: {
          person_id: person.id,
          first_name: person.firstName,
          last_name: person.lastName,
          full_name: person.fullName,
          linkedin_url: person.linkedinUrl,
          current_job_title: person.title,
          headline: person.title,
          job_history: [{ title: person.title, company_name: person.company, current: true, start_year: 2021 }],
          mobile: mobileRevealed
            ? { status: 'VERIFIED', revealed: true, mobile: person.phone, mobile_national: person.phone.slice(2), mobile_international: person.phone, mobile_country: 'United States', mobile_country_code: 'US' }
            : { status: 'VERIFIED', revealed: false },
          email: { status: 'VERIFIED', revealed: true, email: person.email, verification_method: 'SMTP', email_mx_provider: 'Google' },
          location: { country: 'United States', country_code: 'US', state: 'California', city: 'San Francisco', time_zone: 'America/Los_Angeles', time_zone_offset: -8 },
          skills: [],
        },
        company: { company_id: person.id.slice(0, 16), name: person.company, website: `https://${person.domain}`, domain: person.domain, employee_count: 120 },
      };
      const credits = ctx.seenBefore ? 0 : mobileRevealed ? 10 : 1;
      return { kind: 'hit', credits, reply: { status: 200, body } };
    },

    unauthorized: () => prospeoError(401, 'INVALID_API_KEY'),
    throttled(status, retryAfterSeconds) {
      const reply = prospeoError(status, 'RATE_LIMITED');
      return retryAfterSeconds === undefined ? reply : { ...reply, headers: { 'retry-after': String(retryAfterSeconds) } };
    },
    quotaExhausted: () => prospeoError(400, 'INSUFFICIENT_CREDITS'),
    serverError: () => prospeoError(500, 'INTERNAL_ERROR'),

    headers(ctx) {
      const w = windows.count(ctx.now);
      const seconds = (at: number) => String(Math.max(0, Math.ceil((at - ctx.now) / 1000)));
      return {
        'x-second-rate-limit': String(PER_SECOND),
        'x-minute-request-left': String(Math.max(0, PER_MINUTE - w.minute.used)),
        'x-minute-reset-seconds': seconds(w.minute.resetAt),
        'x-daily-request-left': String(Math.max(0, PER_DAY - w.day.used)),
        'x-daily-reset-seconds': seconds(w.day.resetAt),
      };
    },
  };
}
