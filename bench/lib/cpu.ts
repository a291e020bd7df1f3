// Where the CPU went during a measurement: per process group, from /proc/<pid>/stat.
import { readFileSync, readdirSync } from 'node:fs';

const TICK_MS = 10;

interface Proc {
  ticks: number;
  cmd: string;
}

function snapshot(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.set(Number(name), { ticks: Number(fields[11]) + Number(fields[12]), cmd });
    } catch {
      // the process ended between listing and reading
    }
  }
  return out;
}

/** Names a process by pid or command line; undefined puts it under "other". */
export type Classifier = (pid: number, cmd: string) => string | undefined;

/** Starts counting; the returned function gives cores used per group since then. */
export function cpuMeter(classify: Classifier): () => Record<string, number> {
  if (process.platform !== 'linux') return () => ({});
  const before = snapshot();
  const start = performance.now();
  return () => {
    const after = snapshot();
    const seconds = (performance.now() - start) / 1000;
    const used: Record<string, number> = {};
    for (const [pid, p] of after) {
      const delta = p.ticks - (before.get(pid)?.ticks ?? 0);
      if (delta <= 0) continue;
      const group = classify(pid, p.cmd) ?? 'other';
      used[group] = (used[group] ?? 0) + (delta * TICK_MS) / 1000 / seconds;
    }
    return used;
  };
}

/** "api 0.91, pg 1.40, ..." in cores, largest first. */
export function formatCores(used: Record<string, number>): string {
  return Object.entries(used)
    .filter(([, c]) => c >= 0.01)
    .sort((a, b) => b[1] - a[1])
    .map(([g, c]) => `${g} ${c.toFixed(2)}`)
    .join(', ');
}
