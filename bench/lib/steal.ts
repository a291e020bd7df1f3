// Hypervisor steal from /proc/stat: how much of a run's CPU time the host took from this VM.
import { readFileSync } from 'node:fs';

/** The aggregate CPU counters (ticks) at one moment. */
export interface CpuSample {
  steal: number;
  total: number;
}

/** Reads the aggregate `cpu` line of /proc/stat; zeros where it is unavailable (not Linux). */
export function sampleCpu(): CpuSample {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
    if (!line) return { steal: 0, total: 0 };
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user/nice.
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    return { steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return { steal: 0, total: 0 };
  }
}

/** Steal ticks over total ticks between two samples (0 when no time passed). */
export function stealBetween(a: CpuSample, b: CpuSample): number {
  const total = b.total - a.total;
  return total > 0 ? (b.steal - a.steal) / total : 0;
}

export interface Measured<T> {
  value: T;
  /** steal fraction during the reported run */
  steal: number;
  /** how many runs were made */
  tries: number;
}

/**
 * Runs `fn` and measures steal over it; a run above `limit` is repeated, up to `maxTries`
 * runs in all, and the lowest-steal run is the one reported (a noisy neighbour, not our code).
 */
export async function withStealRetry<T>(fn: (attempt: number) => Promise<T>, limit = 0.05, maxTries = 3): Promise<Measured<T>> {
  let best: { value: T; steal: number } | undefined;
  let tries = 0;
  while (tries < maxTries) {
    tries++;
    const before = sampleCpu();
    const value = await fn(tries);
    const steal = stealBetween(before, sampleCpu());
    if (!best || steal < best.steal) best = { value, steal };
    if (steal <= limit) break;
    process.stderr.write(`  steal ${(steal * 100).toFixed(1)}% > ${(limit * 100).toFixed(0)}%: running again (${tries}/${maxTries})\n`);
  }
  return { value: best!.value, steal: best!.steal, tries };
}
