// The simulator's knobs: determinism, latency, timeouts, storms, quotas, credits, stats and signed webhooks.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseClearbitWebhook } from '../../../src/providers/adapters/clearbit.js';
import type { LookupInput, ProviderResult } from '../../../src/providers/provider.js';
import { type ProviderSim, startProviderSim } from '../../../src/providers/sim/server.js';
import type { ProviderSimOptions } from '../../../src/providers/sim/options.js';
import { maxInWindow } from '../../../src/providers/sim/stats.js';
import { verifyProviderWebhook } from '../../../src/providers/webhook-signature.js';
import { adapterFor, shapeDifferences } from './helpers.js';

const sims: ProviderSim[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});
async function sim(options: ProviderSimOptions = {}): Promise<ProviderSim> {
  const s = await startProviderSim(options);
  sims.push(s);
  return s;
}

const person = (i: number): LookupInput => ({ want: 'email', firstName: `Ann${i}`, lastName: 'Lee', domain: 'acme.io' });
const outcomes = async (s: ProviderSim, provider: 'hunter' | 'apollo' | 'pdl' | 'prospeo', n: number): Promise<ProviderResult[]> => {
  const adapter = adapterFor(provider, s.baseUrls[provider]);
  const out: ProviderResult[] = [];
  for (let i = 0; i < n; i++) out.push(await adapter.lookup(person(i)));
  return out;
};
const summary = (rs: ProviderResult[]) => rs.map((r) => (r.outcome === 'hit' ? r.value : r.outcome));

describe('determinism', () => {
  it('gives the same answers for the same seed and input, other answers for another seed', async () => {
    const [a, b, c] = await Promise.all([sim({ seed: 'alpha' }), sim({ seed: 'alpha' }), sim({ seed: 'beta' })]);
    const [ra, rb, rc] = await Promise.all([outcomes(a, 'apollo', 40), outcomes(b, 'apollo', 40), outcomes(c, 'apollo', 40)]);
    expect(summary(ra)).toEqual(summary(rb));
    expect(summary(ra)).not.toEqual(summary(rc));
    // Asked again, the same person gets the same answer.
    expect(summary(await outcomes(a, 'apollo', 40))).toEqual(summary(ra));
  });

  it('knows about the share of people the hit rate says', async () => {
    const s = await sim({ seed: 7, hitRate: 0.3 });
    const hits = (await outcomes(s, 'pdl', 200)).filter((r) => r.outcome === 'hit').length;
    expect(hits).toBeGreaterThan(35);
    expect(hits).toBeLessThan(85);
    const none = await sim({ providers: { pdl: { hitRate: 0 } } });
    expect((await outcomes(none, 'pdl', 20)).every((r) => r.outcome === 'miss' && r.status === 404)).toBe(true);
  });

  it('answers an email built from the name and domain it was asked about', async () => {
    const s = await sim({ hitRate: 1 });
    const r = await adapterFor('hunter', s.baseUrls.hunter).lookup({ want: 'email', firstName: 'Grace', lastName: 'Hopper', domain: 'navy.mil' });
    expect(r).toMatchObject({ outcome: 'hit', value: 'grace.hopper@navy.mil', credits: 1 });
  });
});

describe('latency and timeouts', () => {
  it('waits the configured latency before answering', async () => {
    const s = await sim({ latencyMs: 120 });
    const r = await adapterFor('prospeo', s.baseUrls.prospeo).lookup(person(1));
    expect(r.latencyMs).toBeGreaterThanOrEqual(115);
  });

  it('holds a call past the client timeout, which the adapter reports as a retryable error', async () => {
    const s = await sim({ providers: { hunter: { timeoutRate: 1 } } });
    const r = await adapterFor('hunter', s.baseUrls.hunter, 'k', 150).lookup(person(1));
    expect(r).toMatchObject({ outcome: 'error', retryable: true, status: null });
    expect(s.stats().providers.hunter.outcomes.timeout).toBe(1);
    // Other providers are unaffected.
    expect((await adapterFor('apollo', s.baseUrls.apollo, 'k', 1000).lookup(person(1))).status).toBe(200);
  });

  it('answers 500 for the error rate, and a provider down lets the next one answer', async () => {
    const s = await sim({ hitRate: 1, providers: { apollo: { errorRate: 1 } } });
    const down = await outcomes(s, 'apollo', 5);
    expect(down.every((r) => r.outcome === 'error' && r.retryable && r.status === 500)).toBe(true);
    expect((await outcomes(s, 'pdl', 5)).every((r) => r.outcome === 'hit')).toBe(true);
  });
});

describe('storms and quotas', () => {
  it('throttles a counted storm after the first calls, with Retry-After, then recovers', async () => {
    const s = await sim({ hitRate: 1, storms: [{ provider: 'apollo', afterCalls: 2, calls: 3, retryAfterSeconds: 2 }] });
    const rs = await outcomes(s, 'apollo', 7);
    expect(rs.map((r) => r.outcome)).toEqual(['hit', 'hit', 'throttled', 'throttled', 'throttled', 'hit', 'hit']);
    expect(rs[2]).toMatchObject({ status: 429, retryAfterMs: 2000, reason: 'rate_limit' });
    expect(s.stats().providers.apollo.outcomes).toMatchObject({ hit: 4, throttled: 3 });
  });

  it('throttles Hunter with 403 and no Retry-After, for a storm of a duration', async () => {
    const s = await sim({ hitRate: 1, storms: [{ provider: '*', durationMs: 150 }] });
    const first = await outcomes(s, 'hunter', 2);
    expect(first.map((r) => [r.outcome, r.status, r.outcome === 'throttled' ? r.retryAfterMs : 'x'])).toEqual([
      ['throttled', 403, null],
      ['throttled', 403, null],
    ]);
    await new Promise((r) => setTimeout(r, 200));
    expect((await outcomes(s, 'hunter', 1))[0]?.outcome).toBe('hit');
  });

  it('runs out of credits after N answered lookups, storms not counted', async () => {
    const s = await sim({ hitRate: 1, quota: { pdl: 3 }, storms: [{ provider: 'pdl', calls: 1 }] });
    const rs = await outcomes(s, 'pdl', 6);
    expect(rs.map((r) => r.outcome)).toEqual(['throttled', 'hit', 'hit', 'hit', 'quota_exhausted', 'quota_exhausted']);
    expect(rs[4]?.status).toBe(402);
    expect(s.stats().providers.pdl.credits).toBe(3);
  });

  it('changes behaviour at run time and resets its counters', async () => {
    const s = await sim({ hitRate: 1 });
    await outcomes(s, 'apollo', 2);
    const res = await fetch(`${s.url}/__sim/options`, { method: 'POST', body: JSON.stringify({ providers: { apollo: { errorRate: 1 } } }) });
    expect(res.status).toBe(200);
    expect((await outcomes(s, 'apollo', 1))[0]?.status).toBe(500);
    expect((await fetch(`${s.url}/__sim/options`, { method: 'POST', body: JSON.stringify({ hitRate: 2 }) })).status).toBe(400);
    expect((await fetch(`${s.url}/__sim/reset`, { method: 'POST' })).status).toBe(200);
    expect(s.stats().providers.apollo.calls).toBe(0);
  });
});

describe('credits and stats', () => {
  it("counts calls, outcomes and credits as each provider bills, equal to the adapters' own counts", async () => {
    const s = await sim({ seed: 'credits', hitRate: 0.5 });
    let credits = 0;
    for (const provider of ['hunter', 'apollo', 'pdl', 'prospeo'] as const) {
      const rs = await outcomes(s, provider, 30);
      const mine = rs.reduce((n, r) => n + r.credits, 0);
      credits += mine;
      const st = s.stats().providers[provider];
      expect(st.calls).toBe(30);
      expect(st.credits).toBe(mine);
      expect(st.outcomes.hit).toBe(rs.filter((r) => r.outcome === 'hit').length);
      expect(st.arrivals).toHaveLength(30);
    }
    const res = await fetch(`${s.url}/__sim/stats`);
    const body = (await res.json()) as { providers: Record<string, { credits: number; arrivals: number[] }> };
    expect(Object.values(body.providers).reduce((n, p) => n + p.credits, 0)).toBe(credits);
    expect(credits).toBeGreaterThan(20);
  });

  it('does not bill Prospeo twice for the same person, and bills a revealed mobile 10', async () => {
    const s = await sim({ hitRate: 1 });
    const prospeo = adapterFor('prospeo', s.baseUrls.prospeo);
    expect((await prospeo.lookup(person(1))).credits).toBe(1);
    expect(await prospeo.lookup(person(1))).toMatchObject({ outcome: 'hit', credits: 0 });
    expect(await prospeo.lookup({ ...person(2), want: 'phone' })).toMatchObject({ outcome: 'hit', value: expect.stringMatching(/^\+1415555/), credits: 10 });
    expect(s.stats().providers.prospeo.credits).toBe(11);
  });

  it('refuses a wrong key with the provider\'s 401 and counts it', async () => {
    const s = await sim({ apiKey: 'right' });
    expect(await adapterFor('pdl', s.baseUrls.pdl, 'wrong').lookup(person(1))).toMatchObject({ outcome: 'error', retryable: false, status: 401 });
    expect((await adapterFor('pdl', s.baseUrls.pdl, 'right').lookup(person(1))).status).not.toBe(401);
    expect(s.stats().providers.pdl.outcomes.unauthorized).toBe(1);
  });

  it('finds the busiest sliding window of arrivals', () => {
    expect(maxInWindow([0, 100, 999, 1000, 1500, 1998], 1000)).toBe(4);
    expect(maxInWindow([0, 100, 999, 1000, 1500, 1999], 1000)).toBe(3);
    expect(maxInWindow([5000, 0, 10], 1000)).toBe(2);
    expect(maxInWindow([], 1000)).toBe(0);
  });

  it('compares shapes strictly enough to fail', () => {
    expect(shapeDifferences({ a: { b: 1, c: [{ d: 'x' }] } }, { a: { b: 2, c: [{ d: 'y' }] } })).toEqual([]);
    expect(shapeDifferences({ a: { b: 1, c: [{ d: 'x' }] } }, { a: { b: '2', c: [{}] } })).toEqual(['$.a.b: number expected, got string', '$.a.c[0].d: missing']);
  });
});

describe('Clearbit webhooks', () => {
  it('answers 202 and posts the answer, signed over the raw body with a timestamp, to the callback', async () => {
    const received: { headers: Record<string, string | string[] | undefined>; raw: string }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const s = await sim({ hitRate: 1, clearbit: { queueRate: 1, webhookUrl: url, webhookSecret: 'shh', webhookDelayMs: 20 } });
      const clearbit = adapterFor('clearbit', s.baseUrls.clearbit);
      const r = await clearbit.lookup({ want: 'social', email: 'ada@lovelace.org' });
      expect(r).toMatchObject({ outcome: 'queued', requestId: 'req-1', status: 202, credits: 0 });
      await expect.poll(() => s.stats().webhooks.delivered, { timeout: 2000 }).toBe(1);

      const [hook] = received;
      expect(verifyProviderWebhook('shh', hook!.headers, hook!.raw)).toEqual({ ok: true });
      expect(verifyProviderWebhook('other', hook!.headers, hook!.raw)).toEqual({ ok: false, reason: 'bad_signature' });
      expect(verifyProviderWebhook('shh', hook!.headers, hook!.raw.replace('ada', 'eve'))).toEqual({ ok: false, reason: 'bad_signature' });
      expect(verifyProviderWebhook('shh', hook!.headers, hook!.raw, Date.now() + 6 * 60_000)).toEqual({ ok: false, reason: 'stale_timestamp' });
      const parsed = parseClearbitWebhook(JSON.parse(hook!.raw), 'social');
      expect(parsed).toMatchObject({ requestId: 'req-1', outcome: { outcome: 'hit', value: expect.stringMatching(/^https:\/\/www\.linkedin\.com\/in\//), credits: 1 } });
      expect(s.stats().providers.clearbit.credits).toBe(1);

      // Once answered by webhook, the record is known: the next lookup answers at once.
      expect(await clearbit.lookup({ want: 'social', email: 'ada@lovelace.org' })).toMatchObject({ outcome: 'hit', status: 200 });
    } finally {
      receiver.closeAllConnections();
      receiver.close();
    }
  });
});
