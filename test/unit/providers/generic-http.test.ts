// A provider defined as data: validation of the definition, the request it sends, and its response mapping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGenericHttpProvider } from '../../../src/providers/adapters/generic-http.js';
import { type GenericProviderDefinition, genericProviderSchema } from '../../../src/providers/adapters/generic-http-schema.js';
import { readPath } from '../../../src/providers/json-path.js';
import { type Replay, startReplay } from './helpers.js';

let replay: Replay;
beforeAll(async () => {
  replay = await startReplay();
});
afterAll(async () => {
  await replay.close();
});

const define = (over: Record<string, unknown> = {}): GenericProviderDefinition =>
  genericProviderSchema.parse({
    name: 'acme_finder',
    wants: ['email', 'phone'],
    request: {
      url: `${replay.url}/find?domain={domain}&name={fullName}`,
      auth: { valueFrom: 'ACME_TOKEN', header: 'Authorization', prefix: 'Bearer ' },
    },
    response: { value: { email: 'result.emails[0].address', phone: 'result.phone' }, hitCredits: 'billing.cost', missStatuses: [404, 204] },
    ...over,
  });

const input = { want: 'email' as const, firstName: 'Zoë', lastName: 'Ng', domain: 'acme.io' };

describe('generic HTTP provider definition', () => {
  it('fills defaults and refuses unknown placeholders, bad paths and bad names', () => {
    const def = define();
    expect(def.request.method).toBe('GET');
    expect(def.response.throttledStatuses).toEqual([429]);
    expect(def.response.quotaStatuses).toEqual([402]);
    expect(def.endpoint).toBe('default');
    const bad = (d: Record<string, unknown>) => genericProviderSchema.safeParse(d).success;
    const base = { name: 'x', wants: ['email'], request: { url: 'https://x.io/{email}' }, response: { value: 'a.b' } };
    expect(bad(base)).toBe(true);
    expect(bad({ ...base, request: { url: 'https://x.io/{emial}' } })).toBe(false);
    expect(bad({ ...base, request: { url: 'ftp://x.io/{email}' } })).toBe(false);
    expect(bad({ ...base, response: { value: 'a..b' } })).toBe(false);
    expect(bad({ ...base, name: 'Has Space' })).toBe(false);
    expect(bad({ ...base, wants: ['fax'] })).toBe(false);
    expect(bad({ ...base, extra: true })).toBe(false);
  });
});

describe('generic HTTP provider', () => {
  it('sends the templated request with the secret in the named header and maps a hit', async () => {
    replay.answer({ status: 200, headers: {}, body: { result: { emails: [{ address: 'zoe@acme.io' }] }, billing: { cost: 2 } } });
    const p = createGenericHttpProvider(define(), 's3cret');
    const r = await p.lookup(input);
    expect(r).toMatchObject({ outcome: 'hit', value: 'zoe@acme.io', credits: 2, provider: 'acme_finder', endpoint: 'default', status: 200 });
    const sent = replay.requests.at(-1)!;
    expect(sent.path).toBe('/find');
    expect(sent.query.get('domain')).toBe('acme.io');
    expect(sent.query.get('name')).toBe('Zoë Ng');
    expect(sent.headers.authorization).toBe('Bearer s3cret');
  });

  it('maps miss, throttled (with Retry-After), quota, forbidden and other statuses', async () => {
    const p = createGenericHttpProvider(define(), 's3cret');
    const at = async (status: number, headers: Record<string, string> = {}, body: unknown = {}) => {
      replay.answer({ status, headers, body });
      return p.lookup(input);
    };
    expect(await at(404)).toMatchObject({ outcome: 'miss', credits: 0 });
    expect(await at(200, {}, { result: { emails: [] } })).toMatchObject({ outcome: 'miss', credits: 0 });
    expect(await at(429, { 'retry-after': '3' })).toMatchObject({ outcome: 'throttled', retryAfterMs: 3000 });
    expect(await at(402)).toMatchObject({ outcome: 'quota_exhausted' });
    expect(await at(451)).toMatchObject({ outcome: 'forbidden_subject' });
    expect(await at(503)).toMatchObject({ outcome: 'error', retryable: true });
    expect(await at(400)).toMatchObject({ outcome: 'error', retryable: false });
  });

  it('posts a templated JSON body, dropping keys whose placeholder the input lacks, and sends a query key', async () => {
    const def = define({
      request: { method: 'POST', url: `${replay.url}/lookup`, body: { person: { email: '{email}', name: '{fullName}', tag: 'lead-{want}' }, ids: ['{phone}'] }, auth: { valueFrom: 'ACME_TOKEN', query: 'key' } },
      response: { value: 'phone' },
    });
    replay.answer({ status: 200, headers: {}, body: { phone: '+14155550100' } });
    const r = await createGenericHttpProvider(def, 'k1').lookup({ want: 'phone', email: 'zoe@acme.io' });
    expect(r).toMatchObject({ outcome: 'hit', value: '+14155550100', credits: 1 });
    const sent = replay.requests.at(-1)!;
    expect(sent.method).toBe('POST');
    expect(sent.body).toEqual({ person: { email: 'zoe@acme.io', tag: 'lead-phone' }, ids: [] });
    expect(sent.query.get('key')).toBe('k1');
  });

  it('does not call when a URL placeholder has no value or the want is not served', async () => {
    const before = replay.requests.length;
    const p = createGenericHttpProvider(define(), 's3cret');
    expect(p.endpoint({ want: 'email', firstName: 'Zoë', lastName: 'Ng' })).toBeNull();
    expect(await p.lookup({ want: 'email', firstName: 'Zoë', lastName: 'Ng' })).toMatchObject({ outcome: 'error', retryable: false, status: null });
    expect(p.endpoint({ ...input, want: 'company' })).toBeNull();
    expect(replay.requests).toHaveLength(before);
  });
});

describe('readPath', () => {
  it('follows keys and indexes, and never the prototype', () => {
    const v = { a: { b: [{ c: 1 }, { c: 2 }] } };
    expect(readPath(v, 'a.b[1].c')).toBe(2);
    expect(readPath(v, 'a.b[5].c')).toBeUndefined();
    expect(readPath(v, 'a.x.c')).toBeUndefined();
    expect(readPath(v, 'a.constructor')).toBeUndefined();
    expect(readPath({}, '__proto__')).toBeUndefined();
  });
});
