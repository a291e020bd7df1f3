// Rate and ETA of a job's progress, from samples of `processed` taken as progress events come.
import type { JobProgress } from '../api/types';

export interface ProgressSample {
  /** ms (Date.now()) */
  at: number;
  processed: number;
}

/** Appends a sample, keeping those within windowMs of it (and the one before, if all are older). */
export function addSample(samples: readonly ProgressSample[], sample: ProgressSample, windowMs = 30_000): ProgressSample[] {
  const last = samples[samples.length - 1];
  // A retry starts counting again: the old samples say nothing about the new run.
  if (last && sample.processed < last.processed) return [sample];
  if (last && last.at === sample.at && last.processed === sample.processed) return [...samples];
  const kept = samples.filter((s) => sample.at - s.at <= windowMs);
  if (kept.length === 0 && last) kept.push(last);
  return [...kept, sample];
}

/**
 * Items per second: over the sampled window when it spans at least minSpanMs, else over the
 * whole run since startedAt; null when neither says anything yet.
 */
export function progressRate(samples: readonly ProgressSample[], run: { processed: number; startedAt: string | null; now: number }, minSpanMs = 2_000): number | null {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first && last && last.at - first.at >= minSpanMs) {
    return Math.max(0, (last.processed - first.processed) / ((last.at - first.at) / 1000));
  }
  if (run.startedAt === null) return null;
  const elapsed = (run.now - Date.parse(run.startedAt)) / 1000;
  if (!(elapsed > 0) || run.processed <= 0) return null;
  return run.processed / elapsed;
}

/** Seconds left at the given rate; 0 when done, null when unknown (no rate, or nothing moves). */
export function etaSeconds(progress: JobProgress, ratePerSecond: number | null): number | null {
  const left = Math.max(0, progress.total - progress.processed);
  if (left === 0) return 0;
  if (ratePerSecond === null || !(ratePerSecond > 0)) return null;
  return left / ratePerSecond;
}

/** Share done, 0..1 (a job with nothing to do counts as 0 until it finishes). */
export function fractionDone(progress: JobProgress): number {
  if (progress.total <= 0) return 0;
  return Math.min(1, Math.max(0, progress.processed / progress.total));
}
