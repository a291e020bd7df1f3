// Jobs that are not chunked (lead jobs, company_data_update, social_profile_discovery) and a
// deferred lookup: a short wait is slept out inside the attempt, a longer one ends the attempt
// with the StepDeferred, which the worker turns into a hand-back that spends no attempt and
// holds no worker slot (src/queue/worker-runtime.ts); answers that arrive meanwhile are read
// from the cache on the next run.
import { StepDeferred } from '../enrich/plan.js';

/** Waits up to this long inside the attempt; a longer wait gives the worker slot back. */
export const INLINE_WAIT_MS = 1_000;

/**
 * Runs fn until it is not deferred, sleeping out deferrals of at most INLINE_WAIT_MS and
 * rethrowing longer ones. Ends early when the signal aborts.
 */
export async function untilAnswered<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof StepDeferred)) throw err;
      const ms = Math.max(5, err.retryAt - Date.now());
      if (ms > INLINE_WAIT_MS) throw err;
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
