// What the simulator counts per provider: calls by outcome, credits as each provider bills, arrival times.
import { SIM_PROVIDERS, type SimProviderName } from './options.js';

export type SimCallKind = 'hit' | 'miss' | 'forbidden' | 'queued' | 'throttled' | 'quota_exhausted' | 'error' | 'timeout' | 'unauthorized' | 'bad_request';

export interface SimProviderStats {
  calls: number;
  /** calls by what they were answered */
  outcomes: Record<SimCallKind, number>;
  /** credits as the provider bills (per hit where it bills per hit; queued lookups when their webhook is sent) */
  credits: number;
  byEndpoint: Record<string, number>;
  /** epoch ms of every call's arrival, in order */
  arrivals: number[];
}

export interface SimStats {
  startedAt: number;
  providers: Record<SimProviderName, SimProviderStats>;
  webhooks: { sent: number; delivered: number; failed: number };
}

const emptyOutcomes = (): Record<SimCallKind, number> => ({
  hit: 0,
  miss: 0,
  forbidden: 0,
  queued: 0,
  throttled: 0,
  quota_exhausted: 0,
  error: 0,
  timeout: 0,
  unauthorized: 0,
  bad_request: 0,
});

/** Fresh, zeroed statistics. */
export function emptyStats(now: number): SimStats {
  const providers = {} as Record<SimProviderName, SimProviderStats>;
  for (const p of SIM_PROVIDERS) providers[p] = { calls: 0, outcomes: emptyOutcomes(), credits: 0, byEndpoint: {}, arrivals: [] };
  return { startedAt: now, providers, webhooks: { sent: 0, delivered: 0, failed: 0 } };
}

/** The most calls that arrived within any window of `windowMs` (a sliding window over the arrival log). */
export function maxInWindow(arrivals: readonly number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
