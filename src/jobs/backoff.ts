// Exponential backoff with full jitter (AWS architecture blog's "Full Jitter").

export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
}

/**
 * The ceiling of the delay before retry number `retry` (1 = first retry): base * multiplier^(retry-1),
 * capped, in whole ms. A zero base stays zero (0 * Infinity would otherwise be NaN and read as the cap).
 */
export function backoffCeiling(policy: BackoffPolicy, retry: number): number {
  if (policy.baseDelayMs <= 0) return 0;
  const exp = policy.baseDelayMs * Math.pow(policy.multiplier, Math.max(0, retry - 1));
  return Math.floor(Math.min(policy.maxDelayMs, Number.isFinite(exp) ? exp : policy.maxDelayMs));
}

/** A whole-ms delay drawn uniformly from [0, ceiling]; `random` is injectable for tests. */
export function backoffDelay(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(policy, retry);
  return Math.min(ceiling, Math.floor(random() * (ceiling + 1)));
}
