// Jobs that are not chunked (lead jobs, company_data_update, social_profile_discovery) wait out a
// deferred lookup inside their attempt: the attempt is not spent, though its worker slot is held.
import { StepDeferred } from '../enrich/plan.js';

/** Longest single wait before trying again (the limiter may name a far reset). */
const MAX_WAIT_MS = 30_000;

/**
 * Runs fn until it is not deferred, sleeping until each StepDeferred's retryAt; answers that
 * arrived meanwhile come from the cache on the next run. Ends early when the signal aborts.
 */
export async function untilAnswered<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof StepDeferred)) throw err;
      const ms = Math.max(5, Math.min(MAX_WAIT_MS, err.retryAt - Date.now()));
      await new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        const onAbort = () => {
          clearTimeout(t);
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        const t = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}

/** Maps items through fn with at most `width` calls in flight; results in the items' order. */
export async function mapBounded<T, R>(items: readonly T[], width: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const work = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, work));
  return out;
}
