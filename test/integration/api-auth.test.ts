// Bearer JWT auth: everything but a valid HS256 token with a UUID tenant_id and exp is a 401; tenants never see each other.
import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { getJson, postJson } from '../helpers/api.js';
import { type ErrorBody, detailPaths, expectErrorShape } from '../helpers/errors.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';
import { TEST_JWT_SECRET } from '../helpers/urls.js';

const key = new TextEncoder().encode(TEST_JWT_SECRET);
const nowS = () => Math.floor(Date.now() / 1000);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function hs(claims: Record<string, unknown>, opts: { alg?: string; secret?: Uint8Array; iss?: string; aud?: string } = {}): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' });
  if (opts.iss) jwt.setIssuer(opts.iss);
  if (opts.aud) jwt.setAudience(opts.aud);
  return jwt.sign(opts.secret ?? key);
}

/** A token with any header, signed with HMAC-SHA256 over the test secret (for alg-confusion tries). */
function forged(header: Record<string, unknown>, claims: Record<string, unknown>, signature?: string): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${signature ?? createHmac('sha256', TEST_JWT_SECRET).update(input).digest('base64url')}`;
}

let sys: TestSystem;

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0 });
});
afterAll(async () => {
  await sys?.close();
});

async function getWith(authorization: string | undefined, url = `/v1/enrichment/jobs/${randomUUID()}`) {
  const res = await sys.app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } });
  return { status: res.statusCode, body: res.json() as unknown };
}

async function expect401(authorization: string | undefined, message?: RegExp): Promise<void> {
  for (const url of [`/v1/enrichment/jobs/${randomUUID()}`, `/api/enrichment/job/${randomUUID()}`]) {
    const res = await getWith(authorization, url);
    expect(res.status, url).toBe(401);
    expectErrorShape(res.body);
    expect(res.body.error.code).toBe('unauthorized');
    if (message) expect(res.body.error.message).toMatch(message);
  }
  const post = await sys.app.inject({
    method: 'POST',
    url: '/v1/enrichment/jobs',
    headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
    payload: JSON.stringify({ type: 'test_job' }),
  });
  expect(post.statusCode).toBe(401);
}

describe('refused tokens', () => {
  const tenant = randomUUID();
  const valid = () => ({ tenant_id: tenant, exp: nowS() + 600 });

  it('refuses a missing Authorization header', async () => {
    await expect401(undefined, /bearer token is required/i);
  });

  it.each(['', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer garbage', 'Bearer a.b.c', 'Bearer ...', 'Token abc'])('refuses the header %j', async (h) => {
    await expect401(h);
  });

  it('refuses a token signed with another secret', async () => {
    await expect401(`Bearer ${await hs(valid(), { secret: new TextEncoder().encode('another-secret-another-secret-42') })}`, /invalid/);
  });

  it('refuses a token with a tampered payload', async () => {
    const [h, , s] = (await hs(valid())).split('.');
    await expect401(`Bearer ${h}.${b64url({ tenant_id: randomUUID(), exp: nowS() + 600 })}.${s}`);
  });

  it('refuses an expired token, saying so', async () => {
    await expect401(`Bearer ${await hs({ tenant_id: tenant, exp: nowS() - 10 })}`, /expired/);
  });

  it('refuses alg none', async () => {
    await expect401(`Bearer ${forged({ alg: 'none', typ: 'JWT' }, valid(), '')}`);
    await expect401(`Bearer ${forged({ alg: 'none' }, valid(), '')}`.slice(0, -1));
  });

  it('refuses HS512 even with the right secret', async () => {
    await expect401(`Bearer ${await hs(valid(), { alg: 'HS512' })}`);
  });

  it('refuses an RS256 header over an HMAC signature (algorithm confusion)', async () => {
    await expect401(`Bearer ${forged({ alg: 'RS256', typ: 'JWT' }, valid())}`);
  });

  it('accepts the same forged construction with alg HS256 (so the refusals above are about alg)', async () => {
    const res = await getWith(`Bearer ${forged({ alg: 'HS256', typ: 'JWT' }, valid())}`);
    expect(res.status).toBe(404);
  });

  it.each([
    ['missing', {}],
    ['not a UUID', { tenant_id: 'tenant-1' }],
    ['a number', { tenant_id: 42 }],
    ['an empty string', { tenant_id: '' }],
    ['a UUID with SQL after it', { tenant_id: `${randomUUID()}'; DROP TABLE tenants; --` }],
  ])('refuses a tenant_id that is %s', async (_label, claims) => {
    await expect401(`Bearer ${await hs({ ...claims, exp: nowS() + 600 })}`);
  });

  it('refuses a token without exp', async () => {
    await expect401(`Bearer ${await hs({ tenant_id: tenant })}`);
  });

  it('refuses a token that is not valid yet (nbf in the future)', async () => {
    await expect401(`Bearer ${await hs({ ...valid(), nbf: nowS() + 600 })}`);
  });
});

describe('tenants', () => {
  it('creates the tenant on its first valid request', async () => {
    const tenantId = randomUUID();
    const count = async () => (await sys.services.pool.query('SELECT count(*)::int AS n FROM tenants WHERE id = $1::uuid', [tenantId])).rows[0].n as number;
    expect(await count()).toBe(0);
    const res = await getWith(`Bearer ${await sys.token({ tenantId })}`);
    expect(res.status).toBe(404);
    expect(await count()).toBe(1);
  });

  it('treats an upper-case tenant_id as the same tenant', async () => {
    const tenantId = randomUUID();
    const lower = await sys.token({ tenantId });
    const created = await postJson(sys.app, '/v1/enrichment/jobs', lower, { type: 'test_job' });
    expect(created.status).toBe(202);
    const upper = `Bearer ${await hs({ tenant_id: tenantId.toUpperCase(), exp: nowS() + 600 })}`;
    const res = await getWith(upper, `/v1/enrichment/jobs/${created.body.id}`);
    expect(res.status).toBe(200);
    expect((res.body as Job).tenantId).toBe(tenantId);
  });

  it("answers 404 for another tenant's job on every read path, and 200 for its owner", async () => {
    const owner = await sys.token();
    const other = await sys.token();
    const created = await postJson(sys.app, '/v1/enrichment/jobs', owner, { type: 'test_job', payload: { note: 'private' } });
    expect(created.status).toBe(202);
    const id = created.body.id;
    for (const base of ['/v1/enrichment/jobs', '/v1/enrichment/job', '/api/enrichment/jobs', '/api/enrichment/job']) {
      const mine = await getJson(sys.app, `${base}/${id}`, owner);
      expect(mine.status, base).toBe(200);
      expect(mine.body.id).toBe(id);
      const theirs = await getJson<ErrorBody>(sys.app, `${base}/${id}`, other);
      expect(theirs.status, base).toBe(404);
      expectErrorShape(theirs.body);
      expect(theirs.body.error.code).toBe('not_found');
      expect(JSON.stringify(theirs.body)).not.toContain('private');
    }
  });

  it('answers 400 naming id when the id is not a UUID', async () => {
    const token = await sys.token();
    for (const base of ['/v1/enrichment/jobs', '/v1/enrichment/job', '/api/enrichment/jobs', '/api/enrichment/job']) {
      for (const id of ['123', 'not-a-uuid', `${randomUUID()}x`, "1'%20OR%20'1'='1"]) {
        const res = await getJson<ErrorBody>(sys.app, `${base}/${id}`, token);
        expect(res.status, `${base}/${id}`).toBe(400);
        expectErrorShape(res.body);
        expect(detailPaths(res.body)).toEqual(['id']);
      }
    }
  });
});

describe('issuer and audience, when configured', () => {
  let strict: TestSystem;
  const ISS = 'https://issuer.example';
  const AUD = 'enrichd-api';

  beforeAll(async () => {
    strict = await startTestSystem({ workers: 0, leader: false, env: { JWT_ISSUER: ISS, JWT_AUDIENCE: AUD } });
  });
  afterAll(async () => {
    await strict?.close();
  });

  async function status(token: string): Promise<number> {
    const res = await strict.app.inject({ method: 'GET', url: `/v1/enrichment/jobs/${randomUUID()}`, headers: { authorization: `Bearer ${token}` } });
    if (res.statusCode === 401) expectErrorShape(res.json());
    return res.statusCode;
  }

  it('refuses a missing or wrong issuer, a missing or wrong audience', async () => {
    const claims = { tenant_id: randomUUID(), exp: nowS() + 600 };
    expect(await status(await hs(claims))).toBe(401);
    expect(await status(await hs(claims, { aud: AUD }))).toBe(401);
    expect(await status(await hs(claims, { iss: 'https://evil.example', aud: AUD }))).toBe(401);
    expect(await status(await hs(claims, { iss: ISS }))).toBe(401);
    expect(await status(await hs(claims, { iss: ISS, aud: 'other-api' }))).toBe(401);
  });

  it('accepts the right issuer and audience', async () => {
    expect(await status(await hs({ tenant_id: randomUUID(), exp: nowS() + 600 }, { iss: ISS, aud: AUD }))).toBe(404);
  });
});
