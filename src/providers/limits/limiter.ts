// Provider rate limits shared by every process through Redis: sliding windows, holds from throttles, a quota circuit.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ProviderResult } from '../provider.js';
import { limitKeys } from './keys.js';
import { ACQUIRE, ACQUIRE_MANY, HOLD, OPEN_CIRCUIT, SETTLE_CIRCUIT, runScript } from './scripts.js';
import { RATE_WINDOWS, WINDOW_MS, type WindowLimits, throttleScope } from './windows.js';

export type { RateWindow, WindowCaps, WindowLimits } from './windows.js';

export type Acquired = { granted: true } | { granted: false; retryAt: number /* epoch ms */; reason: 'rate_limit' | 'circuit_open' };

export interface RateLimiter {
  /** Takes one call slot of provider/endpoint now if every window allows it, else says when to try again; never waits. */
  acquire(provider: string, endpoint: string): Promise<Acquired>;
  /** As `count` acquire calls at once, in one round trip: as many as the windows allow are granted (the first ones), the rest refused. */
  acquireMany(provider: string, endpoint: string, count: number): Promise<Acquired[]>;
  /** Feeds a response back: Retry-After/throttled tightens (no slot until retryAt), rate-limit headers (remaining 0 until reset) tighten, quota_exhausted opens the provider's circuit until its resetAt (or a configured default, e.g. 1 h), a success closes a half-open circuit. */
  observe(provider: string, endpoint: string, result: ProviderResult): Promise<void>;
  /** ms every window is counted longer than its length: the most a grant may age before its call arrives */
  readonly marginMs: number;
  /** the tightest per-second limit of provider/endpoint, if any (the pace a process asks at) */
  perSecond(provider: string, endpoint: string): number | undefined;
}

export interface RateLimiterOptions {
  redis: Redis;
  /** key prefix (QUEUE_PREFIX); keys are `${prefix}:{rl:<provider>}:...` */
  prefix: string;
  limits: (provider: string, endpoint: string) => WindowLimits;
  /** the caller's clock, for retryAt and for the epoch times in results (default Date.now) */
  now?: () => number;
  /**
   * ms added to every window (default 50): a call granted at t is counted until t + window
   * + margin, so jitter up to the margin between a grant and the call's arrival at the
   * provider cannot put one call too many into the provider's window. It costs margin /
   * (window + margin) of a per-second limit (4.8 % at 50 ms), next to nothing of the others.
   */
  marginMs?: number;
  /** how long quota exhaustion without a reset time opens the circuit (default 1 h) */
  circuitOpenMs?: number;
  /** how long a throttle without Retry-After holds calls back (default 1 s) */
  throttleHoldMs?: number;
  /** how long the one trial call of a half-open circuit keeps others out if its answer never comes (default 30 s) */
  probeMs?: number;
}

export const DEFAULT_MARGIN_MS = 50;
export const DEFAULT_CIRCUIT_OPEN_MS = 3_600_000;
export const DEFAULT_THROTTLE_HOLD_MS = 1_000;
export const DEFAULT_PROBE_MS = 30_000;
/** After its opening, a circuit stays half-open this long at most, waiting for a success. */
const HALF_OPEN_MEMORY_MS = 24 * 3_600_000;
/** How long "remaining 0" holds when a provider does not say when its window resets. */
const OBSERVED_WINDOW_MS = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** Outcomes that prove the provider answers normally: they close a half-open circuit. */
const ANSWERED = new Set(['hit', 'miss', 'forbidden_subject', 'queued']);

function checkedLimit(provider: string, endpoint: string, window: string, cap: number): number {
  if (!Number.isSafeInteger(cap) || cap < 1) throw new RangeError(`rate limit of ${provider}/${endpoint} per ${window} must be a positive integer (got ${cap})`);
  return cap;
}

/** A limiter over one Redis connection; every process that shares the prefix shares the limits. */
export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const now = opts.now ?? Date.now;
  const marginMs = opts.marginMs ?? DEFAULT_MARGIN_MS;
  const circuitOpenMs = opts.circuitOpenMs ?? DEFAULT_CIRCUIT_OPEN_MS;
  const throttleHoldMs = opts.throttleHoldMs ?? DEFAULT_THROTTLE_HOLD_MS;
  const probeMs = opts.probeMs ?? DEFAULT_PROBE_MS;
  // Window entries need a member unique across processes: this process's id and a counter.
  const processId = randomBytes(6).toString('hex');
  let counter = 0;
  // Providers whose circuit this process saw open or half-open: only their answers need to
  // settle the circuit in Redis (the trial call is always one of this process's own).
  const circuitSeen = new Set<string>();

  /** Closes a half-open circuit ('close') or frees its trial slot ('release'), when this process saw it. */
  async function settle(provider: string, circuit: string[], how: 'close' | 'release'): Promise<void> {
    if (!circuitSeen.has(provider)) return;
    const reply = await runScript(opts.redis, SETTLE_CIRCUIT, circuit, [how]);
    if (how === 'close' && reply !== -1) circuitSeen.delete(provider);
  }

  /** The keys both acquire scripts take, and the windows' lengths and limits, in script order. */
  function windowArgs(provider: string, endpoint: string): { keys: string[]; windows: number[] } {
    const limits = opts.limits(provider, endpoint);
    const k = limitKeys(opts.prefix, provider, endpoint);
    const keys = [k.circuit, k.halfOpen, k.probe, k.hold('provider'), k.hold('endpoint')];
    const windows: number[] = [];
    for (const scope of ['provider', 'endpoint'] as const) {
      for (const w of RATE_WINDOWS) {
        const cap = limits[scope][w];
        if (cap === undefined) continue;
        keys.push(k.window(scope, w));
        windows.push(WINDOW_MS[w], checkedLimit(provider, endpoint, w, cap));
      }
    }
    return { keys, windows };
  }

  const nextMember = () => `${processId}:${(counter = (counter + 1) % Number.MAX_SAFE_INTEGER)}`;

  async function acquire(provider: string, endpoint: string): Promise<Acquired> {
    const { keys, windows } = windowArgs(provider, endpoint);
    const reply = (await runScript(opts.redis, ACQUIRE, keys, [nextMember(), marginMs, probeMs, ...windows])) as [number, number, string?];
    if (reply[0] === 1) {
      if (reply[1] === 1) circuitSeen.add(provider);
      return { granted: true };
    }
    const reason = reply[2] === 'circuit_open' ? 'circuit_open' : 'rate_limit';
    if (reason === 'circuit_open') circuitSeen.add(provider);
    return { granted: false, retryAt: now() + reply[1], reason };
  }

  async function acquireMany(provider: string, endpoint: string, count: number): Promise<Acquired[]> {
    if (count <= 0) return [];
    const { keys, windows } = windowArgs(provider, endpoint);
    const [granted, probe, waitMs, why] = (await runScript(opts.redis, ACQUIRE_MANY, keys, [nextMember(), marginMs, probeMs, count, ...windows])) as [number, number, number, string];
    if (probe === 1 || why === 'circuit_open') circuitSeen.add(provider);
    const refused: Acquired = { granted: false, retryAt: now() + waitMs, reason: why === 'circuit_open' ? 'circuit_open' : 'rate_limit' };
    return Array.from({ length: count }, (_, i) => (i < granted ? { granted: true } : refused));
  }

  async function observe(provider: string, endpoint: string, result: ProviderResult): Promise<void> {
    const t = now();
    const k = limitKeys(opts.prefix, provider, endpoint);
    const circuit = [k.circuit, k.halfOpen, k.probe];
    let holdMs = 0;
    switch (result.outcome) {
      case 'throttled':
        // 'pending': the provider is still working on it, so it answers; not a rate limit.
        if (result.reason === 'pending') {
          await settle(provider, circuit, 'close');
          break;
        }
        holdMs = result.retryAfterMs ?? (result.retryAt !== null ? result.retryAt - t : throttleHoldMs);
        await settle(provider, circuit, 'release');
        break;
      case 'quota_exhausted': {
        const untilReset = result.resetAt !== null ? result.resetAt - t : 0;
        await runScript(opts.redis, OPEN_CIRCUIT, circuit, [Math.ceil(untilReset > 0 ? untilReset : circuitOpenMs), HALF_OPEN_MEMORY_MS]);
        circuitSeen.add(provider);
        break;
      }
      case 'error':
        await settle(provider, circuit, 'release');
        break;
      default:
        if (ANSWERED.has(result.outcome)) await settle(provider, circuit, 'close');
    }
    // Headers saying a window is spent hold calls back until it resets.
    for (const o of result.rateLimits) {
      if (o.window === 'credits' || o.remaining === undefined || o.remaining > 0) continue;
      holdMs = Math.max(holdMs, o.resetAt !== undefined ? o.resetAt - t : OBSERVED_WINDOW_MS[o.window]);
    }
    if (holdMs > 0) await runScript(opts.redis, HOLD, [k.hold(throttleScope(opts.limits(provider, endpoint)))], [Math.ceil(holdMs)]);
  }

  function perSecond(provider: string, endpoint: string): number | undefined {
    const l = opts.limits(provider, endpoint);
    const caps = [l.provider.second, l.endpoint.second].filter((c): c is number => c !== undefined);
    return caps.length > 0 ? Math.min(...caps) : undefined;
  }

  return { acquire, acquireMany, observe, marginMs, perSecond };
}
