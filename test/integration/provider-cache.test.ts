// The provider cache across processes: identical lookups through two separate pools (as two
// worker processes would) make one call; hits and misses are kept for their times, throttles
// and errors never.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { type Pool, createPool } from '../../src/db/pool.js';
import { StepDeferred } from '../../src/enrich/plan.js';
import { createPdlProvider } from '../../src/providers/adapters/pdl.js';
import { ProviderCache } from '../../src/providers/cache/store.js';
import { LookupService } from '../../src/providers/lookup.js';
import type { ProviderRegistry } from '../../src/providers/registry.js';
import { type ProviderSim, startProviderSim } from '../../src/providers/sim/server.js';
import { ensureTenant } from '../helpers/lists.js';
import { createTestDatabase } from '../helpers/system.js';
import { TEST_APP_ROLE } from '../helpers/urls.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pools: Pool[];
let sim: ProviderSim;

function service(pool: Pool, scope: 'tenant' | 'global' = 'tenant', tenantCreditBudget?: number): LookupService {
  const pdl = createPdlProvider({ apiKey: 'k', baseUrl: sim.baseUrls.pdl });
  const registry: ProviderRegistry = { get: (n) => (n === 'pdl' ? pdl : undefined), names: () => ['pdl'], forWant: (w) => (pdl.wants.includes(w) ? [pdl] : []) };
  return new LookupService({ registry, cache: new ProviderCache(pool, 15_000), pool, appRole: TEST_APP_ROLE, cacheScope: scope, tenantCreditBudget, log: pino({ level: 'silent' }) });
}

beforeAll(async () => {
  sim = await startProviderSim({ seed: 'cache', providers: { pdl: { hitRate: 1, latencyMs: 100 } } });
  db = await createTestDatabase('pcache');
  pools = [createPool(db.url, 5), createPool(db.url, 5)];
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await sim.close();
  await db.drop();
});

const input = (i: number) => ({ want: 'email' as const, firstName: `Kim${i}`, lastName: 'Novak', domain: 'umbrella.com' });

describe('the provider cache', () => {
  it('makes one call for identical lookups started at once in two processes, and none for the next', async () => {
    const tenantId = randomUUID();
    await ensureTenant(pools[0]!, tenantId);
    const [a, b] = [service(pools[0]!), service(pools[1]!)];
    const ctx = { tenantId, jobId: null, entryKey: null };
    // "Kim0 NOVAK" and "kim0 novak" normalise to the same name: the same lookup.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).waterfall(['pdl'], 'email', i % 3 ? input(0) : { ...input(0), firstName: 'kim0', lastName: 'NOVAK' }, ctx)),
    );
    expect(sim.stats().providers.pdl.calls).toBe(1);
    expect(new Set(results.map((r) => r.value)).size).toBe(1);
    expect(results.filter((r) => r.attempts[0]!.cached !== true)).toHaveLength(1);
    await a.waterfall(['pdl'], 'email', input(0), ctx);
    expect(sim.stats().providers.pdl.calls).toBe(1);
    // Another tenant does not reuse it (scope tenant) ...
    const other = randomUUID();
    await ensureTenant(pools[0]!, other);
    await a.waterfall(['pdl'], 'email', input(0), { tenantId: other, jobId: null, entryKey: null });
    expect(sim.stats().providers.pdl.calls).toBe(2);
    // ... unless the scope is global.
    const g = service(pools[1]!, 'global');
    await g.waterfall(['pdl'], 'email', input(0), ctx);
    await g.waterfall(['pdl'], 'email', input(0), { tenantId: other, jobId: null, entryKey: null });
    expect(sim.stats().providers.pdl.calls).toBe(3);
  });

  it('keeps hits about 30 days and misses about 7; throttles and errors are not kept', async () => {
    const tenantId = randomUUID();
    await ensureTenant(pools[0]!, tenantId);
    const s = service(pools[0]!);
    const ctx = { tenantId, jobId: null, entryKey: null };
    for (let i = 1; i <= 8; i++) await s.waterfall(['pdl'], 'email', input(i), ctx);
    const { rows } = await pools[0]!.query<{ state: string; days: number }>(
      "SELECT state, round(extract(epoch FROM expires_at - now()) / 86400)::int AS days FROM provider_cache WHERE scope = $1 GROUP BY 1, 2",
      [tenantId],
    );
    for (const r of rows) expect(r.days).toBe(r.state === 'hit' ? 30 : 7);
    expect(rows.some((r) => r.state === 'hit')).toBe(true);

    sim.update({ providers: { pdl: { errorRate: 1 } } });
    const failed = await s.waterfall(['pdl'], 'email', input(100), ctx);
    expect(failed.attempts).toMatchObject([{ provider: 'pdl', outcome: 'error' }]);
    sim.update({ providers: { pdl: { hitRate: 1, errorRate: 0 } }, storms: [{ provider: 'pdl', calls: 1, retryAfterSeconds: 2 }] });
    await expect(s.waterfall(['pdl'], 'email', input(101), ctx)).rejects.toBeInstanceOf(StepDeferred);
    const kept = await pools[0]!.query('SELECT 1 FROM provider_cache WHERE scope = $1 AND input_key LIKE $2', [tenantId, '%kim10%']);
    expect(kept.rowCount).toBe(0);
    // Both are asked again, and now answered.
    const again = await s.waterfall(['pdl'], 'email', input(101), ctx);
    expect(again.attempts[0]!.cached).toBeUndefined();
  });

  it('stops asking once the tenant has spent its monthly budget', async () => {
    const tenantId = randomUUID();
    await ensureTenant(pools[0]!, tenantId);
    const s = service(pools[0]!, 'tenant', 2);
    const ctx = { tenantId, jobId: null, entryKey: null };
    const calls = () => sim.stats().providers.pdl.calls;
    const before = calls();
    const results = [];
    for (let i = 200; i < 206; i++) results.push(await s.waterfall(['pdl'], 'email', input(i), ctx));
    const spent = results.reduce((n, r) => n + r.attempts.reduce((m, a) => m + a.credits, 0), 0);
    expect(spent).toBe(2);
    expect(results.at(-1)).toMatchObject({ value: null, answeredBy: null, stopped: 'budget_exhausted', attempts: [] });
    const made = calls() - before;
    expect(made).toBeLessThan(6);
  });
});
