// Simulated People Data Labs Person Enrichment: 200 with likelihood, free 404, 402 out of credits, x-ratelimit-*.
import { unit } from './hash.js';
import { identityKey } from './person.js';
import { type SimProviderSpec, type SimReply, header, keyOk, param } from './spec.js';
import { createWindows } from './windows.js';

const PER_MINUTE = 1000;
const STARTING_CREDITS = 100_000;

const pdlError = (status: number, type: string, message: string): SimReply => ({ status, body: { status, error: { type, message } } });

/** PDL's simulated /v5/person/enrich. */
export function createPdlSpec(): SimProviderSpec {
  const windows = createWindows({ minute: 60_000 });
  let spent = 0;
  return {
    name: 'pdl',
    throttleStatus: 429,

    route: (method, path) => ((method === 'GET' || method === 'POST') && path === '/v5/person/enrich' ? 'person/enrich' : null),

    authorized: (req, apiKey) => keyOk(header(req, 'x-api-key') ?? param(req, 'api_key'), apiKey),

    parse(endpoint, req) {
      // `company` takes a name, a website or a LinkedIn URL.
      const company = param(req, 'company');
      const website = company !== undefined && /^[^\s/]+\.[a-z]{2,}$/i.test(company);
      const input = {
        email: param(req, 'email'),
        phone: param(req, 'phone'),
        linkedinUrl: param(req, 'profile'),
        firstName: param(req, 'first_name'),
        lastName: param(req, 'last_name'),
        fullName: param(req, 'name'),
        company: website ? undefined : company,
        domain: website ? company : undefined,
      };
      const named = Boolean((input.firstName && input.lastName) || input.fullName);
      if (!input.email && !input.phone && !input.linkedinUrl && !(named && company)) {
        return pdlError(400, 'invalid_request_error', 'Request object must contain at least one of: profile, email, phone, email_hash, lid, pdl_id; or a name and one of company, school, location');
      }
      return { endpoint, input, flags: { minLikelihood: param(req, 'min_likelihood'), required: param(req, 'required') } };
    },

    answer(lookup, person, ctx) {
      const notFound = () => ({ kind: 'miss' as const, credits: 0, reply: { ...pdlError(404, 'not_found', 'No records were found matching your request'), headers: { 'x-call-credits-spent': '0', 'x-call-credits-type': 'enrich' } } });
      if (!person) return notFound();
      const likelihood = 5 + Math.floor(unit(ctx.seed, 'likelihood', identityKey(lookup.input)) * 6);
      // Below min_likelihood PDL answers a free 404.
      if (likelihood < Number(lookup.flags.minLikelihood ?? 2)) return notFound();
      spent += 1;
      const body = {
        status: 200,
        likelihood,
        data: {
          id: person.id,
          full_name: person.fullName,
          first_name: person.firstName,
          last_name: person.lastName,
          work_email: person.email,
          personal_emails: [],
          emails: [{ address: person.email, type: 'professional' }],
          mobile_phone: person.phone,
          phone_numbers: [person.phone],
          linkedin_url: person.linkedinUrl.replace(/^https:\/\/www\./, ''),
          linkedin_username: person.linkedinHandle.replace(/^in\//, ''),
          job_title: person.title.toLowerCase(),
          job_company_name: person.company.toLowerCase(),
          job_company_website: person.domain,
        },
        dataset_version: '31.0',
      };
      return { kind: 'hit', credits: 1, reply: { status: 200, headers: { 'x-call-credits-spent': '1', 'x-call-credits-type': 'enrich' }, body } };
    },

    unauthorized: () => pdlError(401, 'authentication_error', 'Invalid or missing API key'),
    throttled(status, retryAfterSeconds) {
      const reply = pdlError(status, 'rate_limit_error', 'An error occurred due to requests hitting the API too quickly');
      return retryAfterSeconds === undefined ? reply : { ...reply, headers: { 'retry-after': String(retryAfterSeconds) } };
    },
    quotaExhausted: () => pdlError(402, 'payment_required', 'You have hit your account maximum for person enrichment (all matches used)'),
    serverError: () => pdlError(500, 'api_error', 'An internal error occurred'),

    headers(ctx) {
      const w = windows.count(ctx.now).minute;
      return {
        'x-ratelimit-limit': `{'minute': ${PER_MINUTE}}`,
        'x-ratelimit-remaining': `{'minute': ${Math.max(0, PER_MINUTE - w.used)}}`,
        'x-ratelimit-reset': new Date(w.resetAt).toISOString(),
        'x-totallimit-remaining': String(Math.max(0, STARTING_CREDITS - spent)),
        'x-lifetime-used': String(spent),
      };
    },
  };
}
