// The provider rate limiter against the real Redis: sliding windows counted exactly at their
// edges in Redis time, all-or-none across windows and keys, holds from throttles and
// rate-limit headers, and the quota circuit (open, half-open with one trial, closed).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RateLimiterOptions, type WindowLimits, createRateLimiter } from '../../src/providers/limits/limiter.js';
import { limitKeys } from '../../src/providers/limits/keys.js';
import type { ProviderOutcome, ProviderResult, RateLimitObservation } from '../../src/providers/provider.js';
import { deletePrefix, testPrefix } from '../helpers/system.js';
import { REDIS_URL } from '../helpers/urls.js';

const prefix = testPrefix('limits');
const MARGIN = 20;
// A fixed caller clock: retryAt - T is the wait the limiter computed, and results' epoch times are T-relative.
const T = 1_800_000_000_000;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await deletePrefix(REDIS_URL, prefix);
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** Redis's own clock, µs. */
async function redisNowUs(): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1_000_000 + Number(us);
}

function limiter(limits: WindowLimits | ((provider: string, endpoint: string) => WindowLimits), extra: Partial<RateLimiterOptions> = {}) {
  return createRateLimiter({ redis, prefix, limits: typeof limits === 'function' ? limits : () => limits, now: () => T, marginMs: MARGIN, ...extra });
}

function result(provider: string, outcome: ProviderOutcome, rateLimits: RateLimitObservation[] = [], endpoint = 'e'): ProviderResult {
  return { ...outcome, provider, endpoint, status: 200, latencyMs: 5, rateLimits };
}
const HIT: ProviderOutcome = { outcome: 'hit', value: 'a@b.test', details: {}, credits: 1 };

async function grants(l: ReturnType<typeof limiter>, provider: string, endpoint: string, n: number): Promise<number> {
  let granted = 0;
  for (let i = 0; i < n; i++) if ((await l.acquire(provider, endpoint)).granted) granted++;
  return granted;
}

describe('sliding windows', () => {
  it('grants exactly the per-second limit, refuses the next with retryAt when the oldest call leaves the window, and grants again from then', async () => {
    const l = limiter({ provider: { second: 5, minute: 100, hour: 1000 }, endpoint: {} });
    expect(await grants(l, 'w1', 'e', 1)).toBe(1);
    await sleep(150);
    expect(await grants(l, 'w1', 'e', 4)).toBe(4);
    const [first] = await redis.zrange(limitKeys(prefix, 'w1', 'e').window('provider', 'second'), 0, 0, 'WITHSCORES').then((r) => [Number(r[1])]);
    const expiryUs = (first as number) + (1000 + MARGIN) * 1000;
    const before = await redisNowUs();
    const refused = await l.acquire('w1', 'e');
    const after = await redisNowUs();
    expect(refused).toMatchObject({ granted: false, reason: 'rate_limit' });
    const wait = (refused as { retryAt: number }).retryAt - T;
    expect(wait).toBeGreaterThanOrEqual(Math.ceil((expiryUs - after) / 1000));
    expect(wait).toBeLessThanOrEqual(Math.ceil((expiryUs - before) / 1000));
    expect(wait).toBeGreaterThan(700);

    // Just before the edge still refused, from the edge on one slot (the oldest call's) is free.
    await sleep((expiryUs - (await redisNowUs())) / 1000 - 40);
    const early = await l.acquire('w1', 'e');
    // (A stalled test process may wake past the edge: then there is nothing to check.)
    if ((await redisNowUs()) < expiryUs) expect(early.granted).toBe(false);
    await sleep((expiryUs - (await redisNowUs())) / 1000 + 5);
    // The other four started 150 ms after the first, so they still fill the window: one slot in all.
    expect((early.granted ? 1 : 0) + (await grants(l, 'w1', 'e', 3))).toBe(1);
    expect(await redis.zcard(limitKeys(prefix, 'w1', 'e').window('provider', 'second'))).toBe(5);
  });

  it('counts a call from its start to exactly window + margin later, in Redis time', async () => {
    const l = limiter({ provider: { second: 2 }, endpoint: {} });
    const key = limitKeys(prefix, 'w5', 'e').window('provider', 'second');
    const spanUs = (1000 + MARGIN) * 1000;
    const t0 = await redisNowUs();
    // One call that left the window 1 µs ago, one that leaves it in 300 ms.
    await redis.zadd(key, t0 - spanUs - 1, 'gone', t0 - spanUs + 300_000, 'inside');
    expect((await l.acquire('w5', 'e')).granted).toBe(true);
    expect(await redis.zrange(key, 0, -1)).toHaveLength(2);
    expect(await redis.zscore(key, 'gone')).toBeNull();
    const r = await l.acquire('w5', 'e');
    const t1 = await redisNowUs();
    expect(r).toMatchObject({ granted: false, reason: 'rate_limit' });
    const wait = (r as { retryAt: number }).retryAt - T;
    expect(wait).toBeLessThanOrEqual(300);
    expect(wait).toBeGreaterThanOrEqual(Math.ceil((t0 + 300_000 - t1) / 1000));
  });

  it('counts every window: the minute limit refuses while the second has room, until a minute after its oldest call', async () => {
    const l = limiter({ provider: { second: 100, minute: 4, hour: 1000 }, endpoint: {} });
    expect(await grants(l, 'w2', 'e', 10)).toBe(4);
    const r = await l.acquire('w2', 'e');
    expect(r.granted).toBe(false);
    const wait = (r as { retryAt: number }).retryAt - T;
    expect(wait).toBeGreaterThan(59_000);
    expect(wait).toBeLessThanOrEqual(60_000 + MARGIN);
    // Refusals add nothing anywhere: the second and hour windows hold the 4 granted calls only.
    const k = limitKeys(prefix, 'w2', 'e');
    expect(await redis.zcard(k.window('provider', 'second'))).toBe(4);
    expect(await redis.zcard(k.window('provider', 'hour'))).toBe(4);
  });

  it('counts endpoint limits per endpoint and provider limits across endpoints, adding a call to all or none', async () => {
    const l = limiter({ provider: { second: 5 }, endpoint: { second: 2, minute: 50 } });
    expect(await grants(l, 'w3', 'a', 4)).toBe(2);
    expect(await grants(l, 'w3', 'b', 4)).toBe(2);
    expect(await grants(l, 'w3', 'c', 4)).toBe(1);
    // d's own windows have room, the provider's does not: nothing is added to d's.
    expect(await grants(l, 'w3', 'd', 3)).toBe(0);
    const k = (e: string) => limitKeys(prefix, 'w3', e);
    expect(await redis.zcard(k('a').window('provider', 'second'))).toBe(5);
    expect(await redis.zcard(k('a').window('endpoint', 'minute'))).toBe(2);
    expect(await redis.zcard(k('c').window('endpoint', 'minute'))).toBe(1);
    expect(await redis.exists(k('d').window('endpoint', 'second'), k('d').window('endpoint', 'minute'))).toBe(0);
  });

  it('holds under concurrency: 90 acquires at once over 3 connections get exactly 20 slots', async () => {
    const conns = [new Redis(REDIS_URL), new Redis(REDIS_URL), new Redis(REDIS_URL)];
    try {
      const limits = { provider: { second: 20, minute: 1000, hour: 1000 }, endpoint: {} };
      const ls = conns.map((c) => createRateLimiter({ redis: c, prefix, limits: () => limits }));
      const all = await Promise.all(Array.from({ length: 90 }, (_, i) => (ls[i % 3] as (typeof ls)[number]).acquire('w4', 'e')));
      expect(all.filter((a) => a.granted)).toHaveLength(20);
    } finally {
      for (const c of conns) c.disconnect();
    }
  });

  it('keeps its keys under the prefix with the provider hash tag, expiring with their window', async () => {
    const l = limiter({ provider: { second: 3, minute: 10, hour: 100 }, endpoint: { second: 2 } });
    await l.acquire('tag{x}', 'people/match');
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:{rl:tag%7Bx%7D}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    expect(keys.sort()).toEqual(
      [`:w:second`, `:w:minute`, `:w:hour`, `:e:people%2Fmatch:w:second`].map((s) => `${prefix}:{rl:tag%7Bx%7D}${s}`).sort(),
    );
    const ttl = Object.fromEntries(await Promise.all(keys.map(async (k) => [k.slice(k.lastIndexOf(':') + 1), await redis.pttl(k)] as const)));
    expect(ttl.second).toBeGreaterThan(0);
    expect(ttl.second).toBeLessThanOrEqual(1000 + MARGIN);
    expect(ttl.minute).toBeLessThanOrEqual(60_000 + MARGIN);
    expect(ttl.hour).toBeGreaterThan(3_500_000);
    expect(ttl.hour).toBeLessThanOrEqual(3_600_000 + MARGIN);
  });
});

describe('tightening from responses', () => {
  const roomy: WindowLimits = { provider: { second: 100, minute: 1000, hour: 10_000 }, endpoint: {} };

  it('a throttle holds every call of the provider back until its Retry-After; a shorter one does not shorten it', async () => {
    const l = limiter(roomy);
    expect((await l.acquire('t1', 'a')).granted).toBe(true);
    await l.observe('t1', 'a', result('t1', { outcome: 'throttled', reason: 'rate_limit', retryAfterMs: 1500, retryAt: T + 1500, credits: 0 }));
    await l.observe('t1', 'a', result('t1', { outcome: 'throttled', reason: 'rate_limit', retryAfterMs: 200, retryAt: T + 200, credits: 0 }));
    for (const ep of ['a', 'b']) {
      const r = await l.acquire('t1', ep);
      expect(r).toMatchObject({ granted: false, reason: 'rate_limit' });
      expect((r as { retryAt: number }).retryAt - T).toBeGreaterThan(1300);
      expect((r as { retryAt: number }).retryAt - T).toBeLessThanOrEqual(1500);
    }
    expect(await redis.zcard(limitKeys(prefix, 't1', 'a').window('provider', 'second'))).toBe(1);
  });

  it('a throttle without Retry-After holds for the default, its retryAt when given; "pending" holds nothing', async () => {
    const l = limiter(roomy, { throttleHoldMs: 300 });
    await l.observe('t2', 'a', result('t2', { outcome: 'throttled', reason: 'pending', retryAfterMs: 5000, retryAt: T + 5000, credits: 0 }));
    expect((await l.acquire('t2', 'a')).granted).toBe(true);
    await l.observe('t2', 'a', result('t2', { outcome: 'throttled', reason: 'rate_limit', retryAfterMs: null, retryAt: null, credits: 0 }));
    const r = await l.acquire('t2', 'a');
    expect((r as { retryAt: number }).retryAt - T).toBeGreaterThan(200);
    expect((r as { retryAt: number }).retryAt - T).toBeLessThanOrEqual(300);
    await sleep(320);
    expect((await l.acquire('t2', 'a')).granted).toBe(true);
    await l.observe('t2', 'a', result('t2', { outcome: 'throttled', reason: 'rate_limit', retryAfterMs: null, retryAt: T + 700, credits: 0 }));
    const r2 = await l.acquire('t2', 'a');
    expect((r2 as { retryAt: number }).retryAt - T).toBeGreaterThan(600);
    expect((r2 as { retryAt: number }).retryAt - T).toBeLessThanOrEqual(700);
  });

  it('rate-limit headers with nothing remaining hold until their reset (the window length when none is given); remaining > 0 holds nothing', async () => {
    const l = limiter(roomy);
    await l.observe('t3', 'a', result('t3', HIT, [{ window: 'minute', limit: 50, remaining: 3, resetAt: T + 30_000 }, { window: 'credits', remaining: 0 }]));
    expect((await l.acquire('t3', 'a')).granted).toBe(true);
    await l.observe('t3', 'a', result('t3', HIT, [{ window: 'minute', limit: 50, remaining: 0, resetAt: T + 800 }]));
    const r = await l.acquire('t3', 'a');
    expect((r as { retryAt: number }).retryAt - T).toBeGreaterThan(700);
    expect((r as { retryAt: number }).retryAt - T).toBeLessThanOrEqual(800);
    await l.observe('t3', 'a', result('t3', HIT, [{ window: 'second', remaining: 0 }]));
    expect((await l.acquire('t3', 'a')).granted).toBe(false);
    await sleep(1020);
    expect((await l.acquire('t3', 'a')).granted).toBe(true);
  });

  it('holds one endpoint only when the provider limits per endpoint', async () => {
    const l = limiter({ provider: {}, endpoint: { second: 100, minute: 1000 } });
    await l.observe('t4', 'a', result('t4', { outcome: 'throttled', reason: 'rate_limit', retryAfterMs: 2000, retryAt: T + 2000, credits: 0 }, [], 'a'));
    expect((await l.acquire('t4', 'a')).granted).toBe(false);
    expect((await l.acquire('t4', 'b')).granted).toBe(true);
    expect(await redis.pttl(limitKeys(prefix, 't4', 'a').hold('endpoint'))).toBeGreaterThan(1500);
  });
});

describe('quota circuit', () => {
  const roomy: WindowLimits = { provider: { second: 100, minute: 1000, hour: 10_000 }, endpoint: {} };
  const exhausted = (resetAt: number | null): ProviderOutcome => ({ outcome: 'quota_exhausted', resetAt, credits: 0 });

  it('quota exhausted opens the provider circuit for every process until its reset, then lets one trial through; its success closes it', async () => {
    // Two limiters stand for two processes: only Redis is shared.
    const a = limiter(roomy);
    const b = limiter(roomy);
    await a.observe('c1', 'a', result('c1', exhausted(T + 400)));
    for (const [l, ep] of [[a, 'a'], [b, 'b']] as const) {
      const r = await l.acquire('c1', ep);
      expect(r).toMatchObject({ granted: false, reason: 'circuit_open' });
      expect((r as { retryAt: number }).retryAt - T).toBeGreaterThan(300);
      expect((r as { retryAt: number }).retryAt - T).toBeLessThanOrEqual(400);
    }
    // A late success from a call started before the opening does not close an open circuit.
    await a.observe('c1', 'a', result('c1', HIT));
    expect((await b.acquire('c1', 'a')).granted).toBe(false);
    await sleep(420);
    expect((await b.acquire('c1', 'a')).granted).toBe(true);
    const waiting = await a.acquire('c1', 'b');
    expect(waiting).toMatchObject({ granted: false, reason: 'circuit_open' });
    expect((waiting as { retryAt: number }).retryAt - T).toBeLessThanOrEqual(5000);
    await b.observe('c1', 'a', result('c1', { outcome: 'miss', credits: 0 }));
    expect(await grants(a, 'c1', 'b', 3)).toBe(3);
    const k = limitKeys(prefix, 'c1', 'a');
    expect(await redis.exists(k.circuit, k.halfOpen, k.probe)).toBe(0);
  });

  it('without a reset time it opens for the configured default; a trial that finds it still exhausted opens it again; an error frees the trial slot', async () => {
    const l = limiter(roomy, { circuitOpenMs: 300 });
    await l.observe('c2', 'a', result('c2', exhausted(null)));
    const r = await l.acquire('c2', 'a');
    expect(r).toMatchObject({ granted: false, reason: 'circuit_open' });
    expect((r as { retryAt: number }).retryAt - T).toBeGreaterThan(200);
    const k = limitKeys(prefix, 'c2', 'a');
    expect(await redis.pttl(k.circuit)).toBeLessThanOrEqual(300);
    expect(await redis.pttl(k.halfOpen)).toBeLessThanOrEqual(300 + 24 * 3_600_000);
    await sleep(320);
    expect((await l.acquire('c2', 'a')).granted).toBe(true);
    await l.observe('c2', 'a', result('c2', exhausted(T - 5)));
    expect(await l.acquire('c2', 'a')).toMatchObject({ granted: false, reason: 'circuit_open' });
    await sleep(320);
    expect((await l.acquire('c2', 'a')).granted).toBe(true);
    expect((await l.acquire('c2', 'a')).granted).toBe(false);
    await l.observe('c2', 'a', result('c2', { outcome: 'error', retryable: true, message: 'timeout', credits: 0 }));
    expect((await l.acquire('c2', 'a')).granted).toBe(true);
    expect((await l.acquire('c2', 'a')).granted).toBe(false);
  });
});
