// `npm run bench`: runs every bench module in bench/, prints one summary table, fails on any missed target.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { interrupted } from './lib/proc.js';
import { type BenchModule, type Figure, formatTable } from './lib/report.js';

const DIR = fileURLToPath(new URL('./', import.meta.url));

const isModule = (m: unknown): m is BenchModule =>
  typeof m === 'object' && m !== null && typeof (m as BenchModule).name === 'string' && typeof (m as BenchModule).run === 'function';

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'run.ts')
    .filter((f) => only.length === 0 || only.includes(f.replace(/\.ts$/, '')))
    .sort();
  const figures: Figure[] = [];
  let broken = 0;
  const started = Date.now();
  for (const file of files) {
    const mod = (await import(pathToFileURL(DIR + file).href)) as { bench?: unknown };
    if (!isModule(mod.bench)) continue;
    process.stderr.write(`bench ${mod.bench.name}\n`);
    try {
      figures.push(...(await mod.bench.run()));
    } catch (err) {
      broken++;
      process.stderr.write(`bench ${mod.bench.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }
  process.stdout.write(`\n${formatTable(figures)}\n`);
  const failed = figures.filter((f) => f.pass === false).length;
  process.stdout.write(
    `\n${failed === 0 && broken === 0 ? 'all targets met' : `${failed} figure(s) missed, ${broken} bench(es) broke`} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  return failed === 0 && broken === 0 && figures.length > 0 ? 0 : 1;
}

// Ctrl-C stops the children and drops the bench database before leaving.
process.once('SIGINT', () => {
  void interrupted().then(() => process.exit(130));
});

process.exitCode = await main();
