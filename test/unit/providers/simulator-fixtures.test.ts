// The simulator answers in the fixtures' shapes, and its answers map through the adapters to the fixtures' outcomes.
import { describe, expect, it } from 'vitest';
import { startProviderSim } from '../../../src/providers/sim/server.js';
import { type Fixture, adapterFor, loadFixtures, shapeDifferences } from './helpers.js';

const simulated = loadFixtures().calls.filter((f): f is Fixture & { sim: NonNullable<Fixture['sim']> } => f.sim !== undefined);

/** Sends a fixture's documented request straight to the simulator, as the provider's clients would. */
async function rawCall(baseUrl: string, f: Fixture): Promise<{ status: number; body: unknown }> {
  const base = baseUrl.replace(/\/(v2|api\/v1|v5)$/, '');
  const headers: Record<string, string> = {};
  if (f.request.auth.header) headers[f.request.auth.header] = 'test-key';
  if (f.request.auth.basic) headers.authorization = `Basic ${Buffer.from('test-key:').toString('base64')}`;
  const query = f.request.query ? `?${new URLSearchParams(f.request.query).toString()}` : '';
  const body = f.request.body ? JSON.stringify(f.request.body) : undefined;
  if (body) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${f.request.path}${query}`, { method: f.request.method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

describe.each(simulated.map((f) => [f.file, f] as const))('simulator as %s', (_name, f) => {
  it('answers with the same status and shape, and the adapter maps it to the same outcome', async () => {
    const sim = await startProviderSim({ seed: 'fixtures', ...f.sim });
    try {
      const r = await adapterFor(f.provider, sim.baseUrls[f.provider]).lookup(f.input);
      expect(r.outcome).toBe(f.expect.outcome);
      expect(r.status).toBe(f.response.status);
      for (const key of ['credits', 'retryable', 'reason', 'retryAfterMs', 'requestId'] as const) {
        if (key in f.expect) expect((r as unknown as Record<string, unknown>)[key], key).toEqual(f.expect[key]);
      }
      if (f.expect.outcome === 'hit' && r.outcome === 'hit') expect(r.value).toMatch(/\S/);
      // The rate-limit headers the fixture documents are sent by the simulator too.
      const windows = ((f.expect.rateLimits ?? []) as { window: string }[]).map((o) => o.window).sort();
      if (windows.length > 0) expect(r.rateLimits.map((o) => o.window).sort()).toEqual(windows);

      // Second, so the adapter's call is the first this account makes (Prospeo does not bill a repeat).
      const raw = await rawCall(sim.baseUrls[f.provider], f);
      expect(raw.status).toBe(f.response.status);
      expect(shapeDifferences(f.response.body, raw.body)).toEqual([]);
      expect(sim.stats().providers[f.provider].calls).toBe(2);
    } finally {
      await sim.close();
    }
  });
});

describe('simulator fixtures', () => {
  it('cover every outcome the simulator can produce, for every provider', () => {
    const seen = new Set(simulated.map((f) => `${f.provider} ${f.expect.outcome}`));
    for (const p of ['hunter', 'apollo', 'pdl', 'prospeo', 'clearbit']) {
      for (const o of ['hit', 'miss', 'throttled']) expect(seen, `${p} ${o}`).toContain(`${p} ${o}`);
    }
    for (const row of ['hunter forbidden_subject', 'hunter quota_exhausted', 'pdl quota_exhausted', 'prospeo quota_exhausted', 'clearbit queued', 'hunter error', 'prospeo error']) {
      expect(seen, row).toContain(row);
    }
  });
});
