// Simulated Apollo People Enrichment: person or null, per-team window headers, 429 with retry-after.
import { type SimProviderSpec, type SimReply, field, header, keyOk } from './spec.js';
import { createWindows } from './windows.js';

// Figures of a paid team on the enrichment endpoints; informational, the simulator does not enforce them.
const LIMITS = { minute: 1000, hour: 60_000, day: 1_440_000 };

const apolloError = (status: number, error: string): SimReply => ({ status, body: { error } });

/** Apollo's simulated /people/match. */
export function createApolloSpec(): SimProviderSpec {
  const windows = createWindows({ minute: 60_000, hour: 3_600_000, day: 86_400_000 });
  return {
    name: 'apollo',
    throttleStatus: 429,

    route: (method, path) => (method === 'POST' && path === '/api/v1/people/match' ? 'people/match' : null),

    authorized: (req, apiKey) => keyOk(header(req, 'x-api-key') ?? field(req.body, 'api_key'), apiKey),

    parse(endpoint, req) {
      const b = req.body;
      const input = {
        firstName: field(b, 'first_name'),
        lastName: field(b, 'last_name'),
        fullName: field(b, 'name'),
        email: field(b, 'email'),
        company: field(b, 'organization_name'),
        domain: field(b, 'domain'),
        linkedinUrl: field(b, 'linkedin_url'),
      };
      if (Object.values(input).every((v) => v === undefined)) return apolloError(422, 'Please provide at least one of the following parameters: name, email, domain, linkedin_url, id');
      return { endpoint, input, flags: {} };
    },

    answer(_lookup, person) {
      // "If you only provide general information ... you may receive a 200 ... no records enriched."
      if (!person) return { kind: 'miss', credits: 0, reply: { status: 200, body: { person: null } } };
      const org = {
        id: person.id.slice(0, 24),
        name: person.company,
        website_url: `http://www.${person.domain}`,
        linkedin_url: null,
        primary_domain: person.domain,
        industry: 'information technology & services',
        estimated_num_employees: 120,
      };
      const body = {
        person: {
          id: person.id,
          first_name: person.firstName,
          last_name: person.lastName,
          name: person.fullName,
          linkedin_url: person.linkedinUrl,
          title: person.title,
          email_status: 'verified',
          photo_url: null,
          twitter_url: null,
          github_url: null,
          facebook_url: null,
          headline: person.title,
          email: person.email,
          organization_id: org.id,
          employment_history: [{ organization_name: person.company, title: person.title, current: true }],
          city: 'San Francisco',
          state: 'California',
          country: 'United States',
          organization: org,
        },
      };
      // One credit per person enriched (demographics or email).
      return { kind: 'hit', credits: 1, reply: { status: 200, body } };
    },

    unauthorized: () => apolloError(401, 'Invalid access credentials.'),
    throttled(status, retryAfterSeconds) {
      const reply = apolloError(status, 'The maximum number of api calls allowed for api/v1/people/match is 1000 times per minute. Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade.');
      return retryAfterSeconds === undefined ? reply : { ...reply, headers: { 'retry-after': String(retryAfterSeconds) } };
    },
    // Apollo's docs name no status for a spent credit balance; 402 is the simulator's (and adapter's) assumption.
    quotaExhausted: () => apolloError(402, 'You have insufficient credits to complete this request.'),
    serverError: () => apolloError(500, 'Internal server error'),

    headers(ctx) {
      const w = windows.count(ctx.now);
      return {
        'x-rate-limit-minute': String(LIMITS.minute),
        'x-minute-usage': String(w.minute.used),
        'x-minute-requests-left': String(Math.max(0, LIMITS.minute - w.minute.used)),
        'x-rate-limit-hourly': String(LIMITS.hour),
        'x-hourly-usage': String(w.hour.used),
        'x-hourly-requests-left': String(Math.max(0, LIMITS.hour - w.hour.used)),
        'x-rate-limit-24-hour': String(LIMITS.day),
        'x-24-hour-usage': String(w.day.used),
        'x-24-hour-requests-left': String(Math.max(0, LIMITS.day - w.day.used)),
      };
    },
  };
}
