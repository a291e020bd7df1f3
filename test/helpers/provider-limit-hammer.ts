// A worker-like process for the rate-limit tests: warms up, prints "ready"; on "go <ms>" on
// stdin, takes slots from the shared limiter and calls Hunter's email finder at the simulator
// as fast as the limiter lets it (LOOPS calls in flight at most), for that long; then prints
// one JSON line of counts and exits.
// Environment: REDIS_URL, PREFIX, HUNTER_BASE_URL, LOOPS (default 16), and the rate-limit
// variables (HUNTER_RATE_LIMIT_PER_SECOND, ...) read as enrichd reads them.
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { createHunterProvider } from '../../src/providers/adapters/hunter.js';
import { limiterOptions, loadRateLimitSettings } from '../../src/providers/limits/config.js';
import { createRateLimiter } from '../../src/providers/limits/limiter.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: 1 });
const limiter = createRateLimiter({ redis, prefix: env('PREFIX'), ...limiterOptions(loadRateLimitSettings(process.env)) });
const hunter = createHunterProvider({ apiKey: 'k', baseUrl: env('HUNTER_BASE_URL'), timeoutMs: 5000 });
const loops = Number(process.env.LOOPS ?? 16);
const counts = { granted: 0, refused: 0, outcomes: {} as Record<string, number> };

/** One call: the lookup, then its result fed back to the limiter. */
async function call(n: number): Promise<void> {
  const result = await hunter.lookup({ want: 'email', firstName: 'Ada', lastName: `L${process.pid}x${n}`, domain: 'example.com' });
  counts.outcomes[result.outcome] = (counts.outcomes[result.outcome] ?? 0) + 1;
  await limiter.observe('hunter', 'email-finder', result);
}

/**
 * Takes slots as a worker with `loops` task slots does: a granted slot starts its call at
 * once and the next acquire follows; a refusal waits until its retryAt; at most `loops`
 * calls are in flight.
 */
async function run(deadline: number): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (let n = 0; Date.now() < deadline; ) {
    if (inFlight.size >= loops) {
      await Promise.race(inFlight);
      continue;
    }
    const slot = await limiter.acquire('hunter', 'email-finder');
    if (!slot.granted) {
      counts.refused++;
      await new Promise((r) => setTimeout(r, Math.max(0, slot.retryAt - Date.now())));
      continue;
    }
    counts.granted++;
    const p = call(n++).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
}

await redis.ping();
// A fresh process's first calls are slow: the HTTP client loads and connects, cold code
// compiles; tens of ms between a grant and the call's arrival, more than the limiter's margin.
// Warm up as a running worker is (the test resets the simulator's counts after this): one
// connection per loop, and the limiter's own path on a provider name of this process.
await Promise.all(Array.from({ length: loops }, (_, i) => hunter.lookup({ want: 'email', firstName: 'Warm', lastName: `W${process.pid}x${i}`, domain: 'example.com' })));
for (let i = 0; i < 20; i++) {
  const warm = `warmup-${process.pid}`;
  if ((await limiter.acquire(warm, 'x')).granted) await limiter.observe(warm, 'x', { outcome: 'miss', credits: 0, provider: warm, endpoint: 'x', status: 200, latencyMs: 1, rateLimits: [] });
}
console.log('ready');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const m = /^go (\d+)$/.exec(line.trim());
  if (!m) continue;
  const deadline = Date.now() + Number(m[1]);
  await run(deadline);
  console.log(JSON.stringify(counts));
  break;
}
lines.close();
redis.disconnect();
