// Provider rate limits from the environment: RATE_LIMIT_PER_* defaults, <PROVIDER>_RATE_LIMIT_* per provider.
//
// Variables (CONTRACT.md names the first two rows; the others are this module's own):
//   RATE_LIMIT_PER_SECOND / _PER_MINUTE / _PER_HOUR       defaults 10 / 100 / 1000
//   <PROVIDER>_RATE_LIMIT_PER_SECOND / _MINUTE / _HOUR    one provider's limits (name upper-cased)
//   <PROVIDER>_RATE_LIMIT_SCOPE                           provider (default): one budget for all its
//                                                         endpoints; endpoint: each endpoint its own
//   RATE_LIMIT_MARGIN_MS                                  ms added to every window (default 50), so
//                                                         jitter between a grant and the call's
//                                                         arrival at the provider stays inside it
//   PROVIDER_CIRCUIT_OPEN_MS                              how long quota exhaustion without a known
//                                                         reset keeps a provider's circuit open (1 h)
import { ConfigError, type RawEnv } from '../../config-error.js';
import { DEFAULT_CIRCUIT_OPEN_MS, DEFAULT_MARGIN_MS, type RateLimiterOptions } from './limiter.js';
import { RATE_WINDOWS, type RateWindow, type WindowLimits } from './windows.js';

export type LimitScope = 'provider' | 'endpoint';

/** One provider's settings as given; absent windows fall back to the defaults. */
export interface ProviderLimitSettings {
  caps: Partial<Record<RateWindow, number>>;
  scope: LimitScope;
}

export interface RateLimitSettings {
  defaults: Record<RateWindow, number>;
  /** by lower-case provider name */
  providers: Record<string, ProviderLimitSettings>;
  /** ms a circuit stays open after quota exhaustion with no reset time */
  circuitOpenMs: number;
  /** ms added to every window */
  marginMs: number;
}

export const DEFAULT_LIMITS: Record<RateWindow, number> = { second: 10, minute: 100, hour: 1000 };

const SUFFIX: Record<RateWindow, string> = { second: 'PER_SECOND', minute: 'PER_MINUTE', hour: 'PER_HOUR' };
const PROVIDER_VARIABLE = /^([A-Z][A-Z0-9_]*)_RATE_LIMIT_(PER_SECOND|PER_MINUTE|PER_HOUR|SCOPE)$/;
const MAX_LIMIT = 1_000_000_000;

const isSet = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

function integer(variable: string, raw: string, min: number, max: number): number {
  const v = raw.trim();
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(variable, `must be ${min === 1 ? 'a positive integer' : `an integer from ${min}`} up to ${max} (got "${raw.slice(0, 40)}")`);
  }
  return n;
}
const positiveInt = (variable: string, raw: string, max = MAX_LIMIT) => integer(variable, raw, 1, max);

/** Reads rate-limit settings from an env record (the caller merges .env); a bad value throws ConfigError naming it. */
export function loadRateLimitSettings(env: RawEnv): RateLimitSettings {
  const defaults = { ...DEFAULT_LIMITS };
  for (const w of RATE_WINDOWS) {
    const variable = `RATE_LIMIT_${SUFFIX[w]}`;
    const raw = env[variable];
    if (isSet(raw)) defaults[w] = positiveInt(variable, raw);
  }
  const providers: Record<string, ProviderLimitSettings> = {};
  for (const [variable, raw] of Object.entries(env)) {
    const m = PROVIDER_VARIABLE.exec(variable);
    if (!m || !isSet(raw)) continue;
    const name = (m[1] as string).toLowerCase();
    const entry = (providers[name] ??= { caps: {}, scope: 'provider' });
    if (m[2] === 'SCOPE') {
      const scope = raw.trim().toLowerCase();
      if (scope !== 'provider' && scope !== 'endpoint') throw new ConfigError(variable, `must be provider or endpoint (got "${raw.slice(0, 40)}")`);
      entry.scope = scope;
      continue;
    }
    const window = RATE_WINDOWS.find((w) => SUFFIX[w] === m[2]) as RateWindow;
    entry.caps[window] = positiveInt(variable, raw);
  }
  const open = env.PROVIDER_CIRCUIT_OPEN_MS;
  const circuitOpenMs = isSet(open) ? positiveInt('PROVIDER_CIRCUIT_OPEN_MS', open, 31 * 24 * 3_600_000) : DEFAULT_CIRCUIT_OPEN_MS;
  const margin = env.RATE_LIMIT_MARGIN_MS;
  const marginMs = isSet(margin) ? integer('RATE_LIMIT_MARGIN_MS', margin, 0, 1000) : DEFAULT_MARGIN_MS;
  return { defaults, providers, circuitOpenMs, marginMs };
}

/** What createRateLimiter takes from the settings: `createRateLimiter({ redis, prefix, ...limiterOptions(settings) })`. */
export function limiterOptions(settings: RateLimitSettings): Pick<RateLimiterOptions, 'limits' | 'marginMs' | 'circuitOpenMs'> {
  return { limits: limitsFrom(settings), marginMs: settings.marginMs, circuitOpenMs: settings.circuitOpenMs };
}

/** The limits of one call, for createRateLimiter's `limits`. */
export function limitsFrom(settings: RateLimitSettings): (provider: string, endpoint: string) => WindowLimits {
  return (provider) => {
    const own = settings.providers[provider.toLowerCase()];
    const caps = { ...settings.defaults, ...own?.caps };
    return own?.scope === 'endpoint' ? { provider: {}, endpoint: caps } : { provider: caps, endpoint: {} };
  };
}
