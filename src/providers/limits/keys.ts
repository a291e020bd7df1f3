// Redis keys of the rate limiter: one hash tag per provider, so one script's keys share a Cluster slot.
import type { RateWindow } from './windows.js';

export interface LimitKeys {
  /** exists while the provider's circuit is open */
  circuit: string;
  /** exists from an opening until a success closes the circuit */
  halfOpen: string;
  /** the one trial call of a half-open circuit */
  probe: string;
  /** no call starts while it exists */
  hold(scope: 'provider' | 'endpoint'): string;
  /** sorted set of call start times in one window */
  window(scope: 'provider' | 'endpoint', w: RateWindow): string;
}

/** The keys of provider/endpoint under a prefix: `${prefix}:{rl:<provider>}:...` (names URI-encoded, so no brace breaks the tag). */
export function limitKeys(prefix: string, provider: string, endpoint: string): LimitKeys {
  const base = `${prefix}:{rl:${encodeURIComponent(provider)}}`;
  const ep = `e:${encodeURIComponent(endpoint)}`;
  return {
    circuit: `${base}:circuit`,
    halfOpen: `${base}:circuit:half-open`,
    probe: `${base}:circuit:probe`,
    hold: (scope) => (scope === 'provider' ? `${base}:hold` : `${base}:${ep}:hold`),
    window: (scope, w) => (scope === 'provider' ? `${base}:w:${w}` : `${base}:${ep}:w:${w}`),
  };
}
