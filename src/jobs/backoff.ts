// Exponential backoff with full jitter (AWS architecture blog's "Full Jitter").

export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
}

/** The ceiling of the delay before retry number `retry` (1 = first retry): base * multiplier^(retry-1), capped. */
export function backoffCeiling(policy: BackoffPolicy, retry: number): number {
  const exp = policy.baseDelayMs * Math.pow(policy.multiplier, Math.max(0, retry - 1));
  return Math.min(policy.maxDelayMs, Number.isFinite(exp) ? exp : policy.maxDelayMs);
}

/** A delay drawn uniformly from [0, ceiling]; `random` is injectable for tests. */
export function backoffDelay(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  return Math.floor(random() * (backoffCeiling(policy, retry) + 1));
}
