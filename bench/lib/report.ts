// Figures, their targets, and the summary table `npm run bench` prints.

/** One measured figure beside its baseline from the same run. */
export interface Figure {
  /** e.g. "(a) submit throughput" */
  name: string;
  unit: string;
  value: number;
  baseline: number;
  /** what must hold, for the table; "-" when the figure is informational */
  target: string;
  /** null for informational rows */
  pass: boolean | null;
  /** steal fraction over the run that produced this figure, and how many runs were made */
  steal: number;
  tries: number;
}

/** A bench module: bench/<name>.ts exports `bench` of this shape. */
export interface BenchModule {
  name: string;
  run(): Promise<Figure[]>;
}

/** The p-th percentile (0..100) of unsorted samples, nearest-rank. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

const num = (v: number, unit: string) => {
  if (!Number.isFinite(v)) return 'n/a';
  const digits = unit === 'ms' ? (v < 10 ? 2 : 1) : v < 100 ? 1 : 0;
  return `${v.toFixed(digits)} ${unit}`;
};

/** Renders the figures as a fixed-width table. */
export function formatTable(figures: Figure[]): string {
  const header = ['figure', 'enrichd', 'baseline', 'ratio', 'target', 'result', 'steal (runs)'];
  const rows = figures.map((f) => [
    f.name,
    num(f.value, f.unit),
    num(f.baseline, f.unit),
    f.baseline > 0 && Number.isFinite(f.value) ? (f.value / f.baseline).toFixed(2) : 'n/a',
    f.target,
    f.pass === null ? '-' : f.pass ? 'PASS' : 'FAIL',
    `${(f.steal * 100).toFixed(1)}% (${f.tries})`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
