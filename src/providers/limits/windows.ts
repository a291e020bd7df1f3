// The sliding windows a provider's calls are counted in, and which key each limit applies to.

export type RateWindow = 'second' | 'minute' | 'hour';

export const RATE_WINDOWS: readonly RateWindow[] = ['second', 'minute', 'hour'];

/** Each window's length, ms. */
export const WINDOW_MS: Record<RateWindow, number> = { second: 1_000, minute: 60_000, hour: 3_600_000 };

/** At most this many calls start in any sliding window of that length; an absent window is not limited. */
export type WindowCaps = Partial<Record<RateWindow, number>>;

/**
 * The limits one call of provider/endpoint must fit. `provider` caps are shared by every
 * endpoint of the provider; `endpoint` caps count this endpoint's calls alone (for providers
 * that limit per endpoint). A call must fit both.
 */
export interface WindowLimits {
  provider: WindowCaps;
  endpoint: WindowCaps;
}

/** Where a provider's throttles apply: to the endpoint when only the endpoint is limited, else to the whole provider. */
export function throttleScope(limits: WindowLimits): 'provider' | 'endpoint' {
  const has = (caps: WindowCaps) => RATE_WINDOWS.some((w) => caps[w] !== undefined);
  return has(limits.endpoint) && !has(limits.provider) ? 'endpoint' : 'provider';
}
