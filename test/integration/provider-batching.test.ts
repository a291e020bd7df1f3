// The batched paths of the lookups against the real Redis and PostgreSQL: many call slots in
// one limiter script (as many as the windows allow, the rest refused as acquire would), and
// many cache claims in one statement (a key asked twice in a batch is still claimed once).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pool, createPool } from '../../src/db/pool.js';
import { Batcher } from '../../src/util/batcher.js';
import { type CacheKey, ProviderCache } from '../../src/providers/cache/store.js';
import { limitKeys } from '../../src/providers/limits/keys.js';
import { type WindowLimits, createRateLimiter } from '../../src/providers/limits/limiter.js';
import { createTestDatabase, deletePrefix, testPrefix } from '../helpers/system.js';
import { REDIS_URL } from '../helpers/urls.js';

const prefix = testPrefix('batching');
const T = 1_800_000_000_000;
let redis: Redis;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  db = await createTestDatabase('pbatch');
  pool = createPool(db.url, 4);
});
afterAll(async () => {
  redis.disconnect();
  await deletePrefix(REDIS_URL, prefix);
  await pool.end();
  await db.drop();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const limiter = (limits: WindowLimits) => createRateLimiter({ redis, prefix, limits: () => limits, now: () => T, marginMs: 20 });

describe('acquireMany', () => {
  it('grants as many as every window has room for, refuses the rest until a slot frees, and counts what it granted', async () => {
    const l = limiter({ provider: { second: 5, minute: 100 }, endpoint: { second: 3 } });
    expect((await l.acquire('b1', 'e')).granted).toBe(true);
    const many = await l.acquireMany('b1', 'e', 4);
    // The endpoint's 3 per second bind: one taken already, two more.
    expect(many.map((a) => a.granted)).toEqual([true, true, false, false]);
    const refused = many[2]!;
    expect(refused).toMatchObject({ granted: false, reason: 'rate_limit' });
    if (!refused.granted) expect(refused.retryAt - T).toBeGreaterThan(900);
    const k = limitKeys(prefix, 'b1', 'e');
    expect(await redis.zcard(k.window('endpoint', 'second'))).toBe(3);
    expect(await redis.zcard(k.window('provider', 'minute'))).toBe(3);
    expect((await l.acquire('b1', 'e')).granted).toBe(false);
    expect(await l.acquireMany('b1', 'e', 0)).toEqual([]);
  });

  it('lets one trial call through a half-open circuit and refuses the others as circuit_open', async () => {
    const l = limiter({ provider: { second: 50 }, endpoint: {} });
    await l.observe('b2', 'e', { outcome: 'quota_exhausted', resetAt: T + 100, credits: 0, provider: 'b2', endpoint: 'e', status: 429, latencyMs: 1, rateLimits: [] });
    expect((await l.acquireMany('b2', 'e', 2)).map((a) => (a.granted ? 'granted' : a.reason))).toEqual(['circuit_open', 'circuit_open']);
    await sleep(150);
    expect((await l.acquireMany('b2', 'e', 3)).map((a) => (a.granted ? 'granted' : a.reason))).toEqual(['granted', 'circuit_open', 'circuit_open']);
    expect((await l.acquire('b2', 'e')).granted).toBe(false);
  });
});

describe('batched claims', () => {
  const key = (scope: string, i: number): CacheKey => ({ scope, provider: 'pdl', endpoint: 'person/enrich', inputKey: `email:k${i}@acme.io` });

  it('claims each key once in a batch, duplicates wait, and a completed key reads as cached', async () => {
    const cache = new ProviderCache(pool, 15_000);
    const scope = randomUUID();
    // Made in the same turn: one batch, with key 0 asked three times.
    const outcomes = await Promise.all([0, 1, 0, 2, 0].map((i) => cache.claim(key(scope, i), 'email')));
    expect(outcomes.map((o) => o.kind)).toEqual(['claimed', 'claimed', 'pending', 'claimed', 'pending']);
    const first = outcomes[0]!;
    if (first.kind !== 'claimed') throw new Error('not claimed');
    await cache.complete(key(scope, 0), first.token, { state: 'hit', value: 'k0@acme.io', details: {} }, { tenantId: randomUUID(), jobId: null, entryKey: null });
    const again = await Promise.all([0, 1, 3].map((i) => cache.claim(key(scope, i), 'email')));
    expect(again[0]).toEqual({ kind: 'cached', answer: { state: 'hit', value: 'k0@acme.io', details: {} } });
    expect(again[1]).toMatchObject({ kind: 'pending' });
    expect(again[2]).toMatchObject({ kind: 'claimed' });
  });

  it('sends requests made while a batch is in flight together in the next one', async () => {
    const sizes: number[] = [];
    const b = new Batcher<number, number>({
      maxBatch: 3,
      maxInFlight: 1,
      run: async (xs) => {
        sizes.push(xs.length);
        await sleep(20);
        return xs.map((x) => x * 2);
      },
    });
    const first = b.add(1);
    await sleep(5);
    const rest = await Promise.all([2, 3, 4, 5].map((x) => b.add(x)));
    expect([await first, ...rest]).toEqual([2, 4, 6, 8, 10]);
    expect(sizes).toEqual([1, 3, 1]);
  });
});
