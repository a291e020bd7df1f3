// What the dashboard needs from the server: the built app at `/` with its cache and security
// headers, API routes keeping precedence, the plan step types, and the oldest waiting age.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIR } from '../../src/api/routes/dashboard.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

let sys: TestSystem;
let token: string;

beforeAll(async () => {
  if (!existsSync(join(DASHBOARD_DIR, 'index.html'))) throw new Error('dist/web is missing: run `npm run build` before the dashboard tests');
  sys = await startTestSystem({ workers: 0 });
  token = await sys.token();
});

afterAll(async () => {
  await sys?.close();
});

const get = (url: string, auth = true) => sys.app.inject({ method: 'GET', url, headers: auth ? { authorization: `Bearer ${token}` } : {} });

describe('serving the dashboard', () => {
  it('serves index.html at / uncached with a strict CSP, and hashed assets cached for a year', async () => {
    const page = await get('/', false);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(page.body).toBe(readFileSync(join(DASHBOARD_DIR, 'index.html'), 'utf8'));
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const asset = await get(script!, false);
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('leaves every other path to the API: JSON 404s, auth, /docs and /openapi.json', async () => {
    const missing = await get('/assets/nope.js', false);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await get('/v1/nope')).json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await get('/v1/enrichment/jobs', false)).statusCode).toBe(401);
    expect((await get('/openapi.json', false)).statusCode).toBe(200);
    expect((await get('/docs', false)).statusCode).toBeLessThan(400);
    const doc = (await get('/openapi.json', false)).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).not.toContain('/');
    expect(Object.keys(doc.paths)).toContain('/v1/enrichment/step-types');
  });
});

describe('API for the views', () => {
  it('lists the plan step types with their options schemas and the providers', async () => {
    const res = await get('/v1/enrichment/step-types');
    expect(res.statusCode).toBe(200);
    const body = res.json() as { items: { type: string; local: boolean; optionsSchema: { properties?: Record<string, unknown> } }[]; providers: { name: string; configured: boolean }[] };
    expect(body.items.map((i) => i.type)).toEqual(['rpc_score', 'email_validation', 'phone_normalization', 'company_domain', 'provider']);
    expect(Object.keys(body.items[0]!.optionsSchema.properties ?? {})).toEqual(['rpcThreshold', 'wpcThreshold']);
    expect(body.items.find((i) => i.type === 'provider')).toMatchObject({ local: false });
    expect(body.providers).toContainEqual({ name: 'hunter', configured: false });
    expect((await get('/api/enrichment/step-types')).statusCode).toBe(200);
    expect((await get('/v1/enrichment/step-types', false)).statusCode).toBe(401);
  });

  it('reports the age of the oldest waiting job of the tenant, null when none waits', async () => {
    const metrics = async () => (await get('/v1/enrichment/jobs/metrics?window=5')).json() as { oldestWaitingSeconds: number | null };
    expect((await metrics()).oldestWaitingSeconds).toBeNull();
    // A scheduled job is not waiting for a worker; a pending one is (no worker runs here).
    const post = (body: object) => sys.app.inject({ method: 'POST', url: '/v1/enrichment/jobs', headers: { authorization: `Bearer ${token}` }, payload: body });
    expect((await post({ type: 'test_job', delayMs: 600_000 })).statusCode).toBe(202);
    expect((await metrics()).oldestWaitingSeconds).toBeNull();
    expect((await post({ type: 'test_job' })).statusCode).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    const age = (await metrics()).oldestWaitingSeconds;
    expect(age).not.toBeNull();
    expect(age!).toBeGreaterThanOrEqual(0.25);
    expect(age!).toBeLessThan(60);
    // Another tenant's waiting job is not this one's.
    const other = await sys.token();
    const theirs = (await sys.app.inject({ method: 'GET', url: '/v1/enrichment/jobs/metrics', headers: { authorization: `Bearer ${other}` } })).json() as { oldestWaitingSeconds: number | null };
    expect(theirs.oldestWaitingSeconds).toBeNull();
  });
});
