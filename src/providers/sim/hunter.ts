// Simulated Hunter v2: Email Finder and Email Verifier, in Hunter's shapes and its inverted 403/429.
import { pick } from './hash.js';
import { type SimProviderSpec, type SimReply, header, keyOk, param } from './spec.js';

const errors = (status: number, id: string, details: string): SimReply => ({ status, body: { errors: [{ id, code: status, details }] } });

// Statuses a known address gets; an unknown person's address is invalid or unknown.
const KNOWN_STATUSES = ['valid', 'valid', 'valid', 'accept_all', 'webmail'] as const;
const UNKNOWN_STATUSES = ['invalid', 'unknown', 'disposable'] as const;
const DEPRECATED_RESULT: Record<string, string> = { valid: 'deliverable', invalid: 'undeliverable', accept_all: 'risky', webmail: 'deliverable', disposable: 'risky', unknown: 'risky' };

/** Hunter's simulated endpoints (no state: Hunter sends no rate-limit headers). */
export function createHunterSpec(): SimProviderSpec {
  return {
    name: 'hunter',
    throttleStatus: 403,

    route(method, path) {
      if (method !== 'GET') return null;
      if (path === '/v2/email-finder') return 'email-finder';
      if (path === '/v2/email-verifier') return 'email-verifier';
      return null;
    },

    authorized(req, apiKey) {
      const bearer = header(req, 'authorization')?.replace(/^Bearer\s+/i, '');
      return keyOk(param(req, 'api_key') ?? header(req, 'x-api-key') ?? bearer, apiKey);
    },

    parse(endpoint, req) {
      if (endpoint === 'email-verifier') {
        const email = param(req, 'email');
        return email ? { endpoint, input: { email }, flags: {} } : errors(400, 'wrong_params', 'You are missing the email parameter');
      }
      const domain = param(req, 'domain');
      const company = param(req, 'company');
      if (!domain && !company) return errors(400, 'wrong_params', 'You are missing the domain or company parameter');
      const input = { domain, company, firstName: param(req, 'first_name'), lastName: param(req, 'last_name'), fullName: param(req, 'full_name') };
      if (!(input.firstName && input.lastName) && !input.fullName) return errors(400, 'wrong_params', 'You are missing the first_name and last_name, or full_name parameters');
      return { endpoint, input, flags: {} };
    },

    answer(lookup, person, ctx, forbidden) {
      if (forbidden) return { kind: 'forbidden', credits: 0, reply: errors(451, 'claimed_email', 'The person behind this email address has asked us directly or indirectly to stop the processing of their personal data.') };
      const day = new Date(ctx.now).toISOString().slice(0, 10);
      if (lookup.endpoint === 'email-verifier') {
        const email = (lookup.input.email ?? '').toLowerCase();
        const status = person ? pick(KNOWN_STATUSES, ctx.seed, 'verify', email) : pick(UNKNOWN_STATUSES, ctx.seed, 'verify', email);
        const good = status === 'valid' || status === 'webmail';
        const data = {
          status,
          result: DEPRECATED_RESULT[status],
          _deprecation_notice: 'Using result is deprecated, use status instead',
          score: person ? person.score : 10,
          email,
          regexp: true,
          gibberish: false,
          disposable: status === 'disposable',
          webmail: status === 'webmail',
          mx_records: status !== 'invalid',
          smtp_server: status !== 'invalid',
          smtp_check: good,
          accept_all: status === 'accept_all',
          block: false,
          sources: [],
        };
        // Hunter bills every verification except unknown and disposable results.
        const credits = status === 'unknown' || status === 'disposable' ? 0 : 1;
        return { kind: person ? 'hit' : 'miss', credits, reply: { status: 200, body: { data, meta: { params: { email } } } } };
      }
      const params = {
        first_name: lookup.input.firstName ?? null,
        last_name: lookup.input.lastName ?? null,
        full_name: lookup.input.fullName ?? null,
        domain: lookup.input.domain ?? null,
        company: lookup.input.company ?? null,
        max_duration: null,
      };
      if (!person) {
        // "No requests are counted if Hunter cannot provide an email."
        const data = { first_name: params.first_name, last_name: params.last_name, email: null, score: null, domain: params.domain, accept_all: null, position: null, twitter: null, linkedin_url: null, phone_number: null, company: params.company, sources: [], verification: { date: null, status: null } };
        return { kind: 'miss', credits: 0, reply: { status: 200, body: { data, meta: { params } } } };
      }
      const data = {
        first_name: person.firstName,
        last_name: person.lastName,
        email: person.email,
        score: person.score,
        domain: person.domain,
        accept_all: false,
        position: person.title,
        twitter: null,
        linkedin_url: person.linkedinUrl,
        phone_number: null,
        company: person.company,
        sources: [{ domain: person.domain, uri: `http://${person.domain}/team`, extracted_on: day, last_seen_on: day, still_on_page: true }],
        verification: { date: day, status: 'valid' },
      };
      return { kind: 'hit', credits: 1, reply: { status: 200, body: { data, meta: { params } } } };
    },

    unauthorized: () => errors(401, 'authentication_failed', 'No user found for the API key supplied'),
    throttled(status, retryAfterSeconds) {
      const reply = status === 403 ? errors(403, 'too_many_requests', 'You have reached the rate limit for this endpoint.') : errors(429, 'too_many_requests', 'Too many requests.');
      return retryAfterSeconds === undefined ? reply : { ...reply, headers: { 'retry-after': String(retryAfterSeconds) } };
    },
    quotaExhausted: () => errors(429, 'too_many_requests', 'You have reached your monthly usage limit. Upgrade your plan to keep searching.'),
    serverError: () => errors(500, 'server_error', 'Something went wrong on our end.'),
    headers: () => ({}),
  };
}
