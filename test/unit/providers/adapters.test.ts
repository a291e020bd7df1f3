// Every adapter against its provider's documented answers, replayed from fixtures over loopback HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClearbitWebhook } from '../../../src/providers/adapters/clearbit.js';
import type { ProviderResult, RateLimitObservation } from '../../../src/providers/provider.js';
import { BASE_PATHS, type Fixture, type Replay, adapterFor, loadFixtures, startReplay } from './helpers.js';

const { calls, webhooks } = loadFixtures();
let replay: Replay;
beforeAll(async () => {
  replay = await startReplay();
});
afterAll(async () => {
  await replay.close();
});

/** Checks the figures the fixture expects among the observations, resets relative to the call's time. */
function expectRateLimits(actual: RateLimitObservation[], expected: Record<string, unknown>[], startedAt: number, endedAt: number): void {
  expect(actual).toHaveLength(expected.length);
  for (const want of expected) {
    const got = actual.find((o) => o.window === want.window);
    expect(got, `window ${String(want.window)}`).toBeDefined();
    expect(got?.limit).toBe(want.limit);
    expect(got?.remaining).toBe(want.remaining);
    if (typeof want.resetAt === 'string') expect(got?.resetAt).toBe(Date.parse(want.resetAt));
    if (typeof want.resetAfterMs === 'number') {
      expect(got?.resetAt).toBeGreaterThanOrEqual(startedAt + want.resetAfterMs);
      expect(got?.resetAt).toBeLessThanOrEqual(endedAt + want.resetAfterMs);
    }
  }
}

/** The outcome fields a fixture names, compared one by one. */
function expectOutcome(r: ProviderResult, e: Fixture['expect']): void {
  expect(r.outcome).toBe(e.outcome);
  const fields = r as unknown as Record<string, unknown>;
  for (const key of ['value', 'credits', 'retryable', 'reason', 'retryAfterMs', 'requestId', 'resetAt'] as const) {
    if (key in e) expect(fields[key], key).toEqual(e[key]);
  }
  if (e.details) expect(fields.details).toMatchObject(e.details as Record<string, unknown>);
}

describe.each(calls.map((f) => [f.file, f] as const))('%s', (_name, f) => {
  it('maps the documented answer to its outcome, and sends the documented request', async () => {
    replay.answer(f.response);
    const before = replay.requests.length;
    const adapter = adapterFor(f.provider, `${replay.url}${BASE_PATHS[f.provider]}`);
    const startedAt = Date.now();
    const r = await adapter.lookup(f.input);
    const endedAt = Date.now();

    expectOutcome(r, f.expect);
    expect(r.provider).toBe(f.provider);
    expect(r.status).toBe(f.response.status);
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    if (f.expect.rateLimits) expectRateLimits(r.rateLimits, f.expect.rateLimits as Record<string, unknown>[], startedAt, endedAt);
    if (f.expect.outcome !== 'hit') expect(r.credits === 0 || f.expect.outcome === 'miss').toBe(true);

    expect(replay.requests).toHaveLength(before + 1);
    const sent = replay.requests[before]!;
    expect(sent.method).toBe(f.request.method);
    expect(sent.path).toBe(f.request.path);
    for (const [k, v] of Object.entries(f.request.query ?? {})) expect(sent.query.get(k), `query ${k}`).toBe(v);
    if (f.request.body) expect(sent.body).toMatchObject(f.request.body);
    if (f.request.auth.header) expect(sent.headers[f.request.auth.header]).toBe('test-key');
    if (f.request.auth.basic) expect(sent.headers.authorization).toBe(`Basic ${Buffer.from('test-key:').toString('base64')}`);
    // The key never travels in the URL, where logs and proxies would keep it.
    expect(sent.query.toString()).not.toContain('test-key');
  });
});

describe.each(webhooks.map((f) => [f.file, f] as const))('%s', (_name, f) => {
  it('maps the webhook payload to the waiting lookup outcome', () => {
    const parsed = parseClearbitWebhook(f.payload, f.want);
    expect(parsed?.requestId).toBe(f.expect.requestId);
    expect(parsed?.outcome.outcome).toBe(f.expect.outcome);
    expect(parsed?.outcome.credits).toBe(f.expect.credits);
    if ('value' in f.expect) expect(parsed?.outcome).toMatchObject({ value: f.expect.value });
  });
});

describe('fixtures', () => {
  it('cover every documented status of the signal matrix and cite a source', () => {
    const seen = new Set(calls.map((f) => `${f.provider} ${f.response.status} ${f.expect.outcome}`));
    for (const row of [
      'hunter 200 hit', 'hunter 200 miss', 'hunter 403 throttled', 'hunter 429 quota_exhausted', 'hunter 451 forbidden_subject', 'hunter 202 throttled', 'hunter 400 error',
      'apollo 200 hit', 'apollo 200 miss', 'apollo 429 throttled', 'apollo 401 error', 'apollo 403 error',
      'pdl 200 hit', 'pdl 404 miss', 'pdl 402 quota_exhausted', 'pdl 429 throttled', 'pdl 400 error',
      'prospeo 200 hit', 'prospeo 400 miss', 'prospeo 429 throttled', 'prospeo 400 quota_exhausted', 'prospeo 401 error',
      'clearbit 200 hit', 'clearbit 202 queued', 'clearbit 404 miss', 'clearbit 429 throttled',
    ]) {
      expect(seen, row).toContain(row);
    }
    for (const f of [...calls, ...webhooks]) expect(f.source, f.file).toMatch(/https:\/\//);
  });
});

describe('adapters without a response', () => {
  it('turns a refused connection into a retryable error and asks nothing it cannot', async () => {
    const hunter = adapterFor('hunter', 'http://127.0.0.1:1/v2');
    const r = await hunter.lookup({ want: 'email', firstName: 'Ann', lastName: 'Lee', domain: 'acme.io' });
    expect(r).toMatchObject({ outcome: 'error', retryable: true, status: null, credits: 0 });
    const before = replay.requests.length;
    const apollo = adapterFor('apollo', `${replay.url}/api/v1`);
    // A name alone gets a 200 that enriches nothing: not worth a call.
    expect(apollo.endpoint({ want: 'email', firstName: 'Ann', lastName: 'Lee' })).toBeNull();
    expect(await apollo.lookup({ want: 'email', firstName: 'Ann', lastName: 'Lee' })).toMatchObject({ outcome: 'error', retryable: false, latencyMs: 0 });
    expect(adapterFor('hunter', replay.url).endpoint({ want: 'phone', email: 'a@b.io' })).toBeNull();
    expect(adapterFor('clearbit', replay.url).endpoint({ want: 'company', domain: 'acme.io' })).toBe('companies/find');
    expect(replay.requests).toHaveLength(before);
  });

  it('gives up after its timeout with a retryable error', async () => {
    const { createServer } = await import('node:http');
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const pdl = adapterFor('pdl', `http://127.0.0.1:${port}/v5`, 'k', 150);
      const r = await pdl.lookup({ want: 'email', email: 'a@acme.io' });
      expect(r).toMatchObject({ outcome: 'error', retryable: true, status: null });
      expect(r.outcome === 'error' && r.message).toBe('no answer within 150 ms');
      expect(r.latencyMs).toBeGreaterThanOrEqual(140);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
