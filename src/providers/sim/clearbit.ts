// Simulated Clearbit (legacy): Combined, Person and Company Find; 202 queued with the answer posted to a webhook.
import { type SimProviderSpec, type SimReply, header, keyOk, param } from './spec.js';
import type { SimPerson } from './person.js';
import { createWindows } from './windows.js';

const PER_MINUTE = 600;

const clearbitError = (status: number, type: string, message: string): SimReply => ({ status, body: { error: { type, message } } });

/** Clearbit's person object. */
function personBody(p: SimPerson): Record<string, unknown> {
  return {
    id: p.id,
    name: { fullName: p.fullName, givenName: p.firstName, familyName: p.lastName },
    email: p.email,
    location: 'San Francisco, CA, US',
    employment: { domain: p.domain, name: p.company, title: p.title, role: 'sales', seniority: 'manager' },
    linkedin: { handle: p.linkedinHandle },
    twitter: { handle: null },
    github: { handle: null },
    emailProvider: false,
  };
}

/** Clearbit's company object. */
function companyBody(p: SimPerson): Record<string, unknown> {
  return { id: p.id.slice(0, 20), name: p.company, legalName: null, domain: p.domain, domainAliases: [], metrics: { employees: 120 }, category: { industry: 'Internet Software & Services' } };
}

/** The body a find answers for a known person on an endpoint. */
export function clearbitBody(endpoint: string, p: SimPerson): Record<string, unknown> {
  if (endpoint === 'companies/find') return companyBody(p);
  if (endpoint === 'people/find') return personBody(p);
  return { person: personBody(p), company: companyBody(p) };
}

/** Clearbit's simulated endpoints; whether a lookup is queued is decided by the server (it owns the webhook). */
export function createClearbitSpec(): SimProviderSpec {
  const windows = createWindows({ minute: 60_000 });
  return {
    name: 'clearbit',
    throttleStatus: 429,

    route(method, path) {
      if (method !== 'GET') return null;
      if (path === '/v2/combined/find') return 'combined/find';
      if (path === '/v2/people/find') return 'people/find';
      if (path === '/v2/companies/find') return 'companies/find';
      return null;
    },

    authorized(req, apiKey) {
      // HTTP Basic: the key is the user name, the password empty.
      const basic = /^Basic\s+(.+)$/i.exec(header(req, 'authorization') ?? '');
      const user = basic ? Buffer.from(basic[1] ?? '', 'base64').toString('utf8').split(':')[0] : undefined;
      return keyOk(user, apiKey);
    },

    parse(endpoint, req) {
      const webhookId = param(req, 'webhook_id');
      if (endpoint === 'companies/find') {
        const domain = param(req, 'domain');
        return domain ? { endpoint, input: { domain }, flags: { webhookId } } : clearbitError(422, 'invalid_domain', 'Missing or invalid domain');
      }
      const email = param(req, 'email');
      return email ? { endpoint, input: { email }, flags: { webhookId } } : clearbitError(422, 'email_invalid', 'Invalid email.');
    },

    answer(lookup, person) {
      if (!person) return { kind: 'miss', credits: 0, reply: clearbitError(404, 'unknown_record', lookup.endpoint === 'companies/find' ? 'Unknown domain' : 'Unknown email address') };
      // "A credit is counted when Clearbit successfully appends any data to a record."
      return { kind: 'hit', credits: 1, reply: { status: 200, body: clearbitBody(lookup.endpoint, person) } };
    },

    unauthorized: () => clearbitError(401, 'auth_required', 'API key required.'),
    throttled(status, retryAfterSeconds) {
      const reply = clearbitError(status, 'rate_limit', 'Rate limit exceeded. Limit is 600 requests per minute.');
      return retryAfterSeconds === undefined ? reply : { ...reply, headers: { 'retry-after': String(retryAfterSeconds) } };
    },
    quotaExhausted: () => clearbitError(402, 'over_quota', 'Over plan quota on this endpoint.'),
    serverError: () => clearbitError(500, 'server_error', 'Internal server error.'),

    headers(ctx) {
      const w = windows.count(ctx.now).minute;
      return {
        'x-ratelimit-limit': String(PER_MINUTE),
        'x-ratelimit-remaining': String(Math.max(0, PER_MINUTE - w.used)),
        'x-ratelimit-reset': String(Math.max(0, Math.ceil((w.resetAt - ctx.now) / 1000))),
      };
    },
  };
}
