// Dashboard benchmark (issue 6, point 7):
// (a) the initial bundle: the JS and CSS that index.html loads (its module script, stylesheets
//     and modulepreloads), gzipped (zlib level 9, as a static server would precompress), beside
//     the same for a bare React app that renders one paragraph (React's own floor), built by
//     Vite the same way in the same run; target < 200 KB.
// (b) the jobs view rendering 500 rows in headless Chromium: an `enrichd api` (the bench build,
//     no worker, so the jobs stay pending) holds 500 test_jobs submitted through POST; the page
//     opens #/jobs?limit=500 and the app measures inside the page, with performance marks, from
//     the moment GET /v1/enrichment/jobs?limit=500 has been parsed to the moment React has
//     committed the 500 rows and the browser has laid them out (a forced layout in a layout
//     effect): `jobs-rows-render`. Median of 7 page loads after 1 warm-up. Baseline: the same
//     500 jobs written as a plain 7-column table through innerHTML in the same page, with the
//     same forced layout; target < 200 ms.
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { CHROMIUM_ARGS, launchChromium } from '../test/e2e/chromium.js';
import { startApi } from './lib/enrichd-procs.js';
import { openBenchEnv } from './lib/env.js';
import { ROOT, stopAll } from './lib/proc.js';
import { type BenchModule, type Figure, percentile } from './lib/report.js';
import { sampleCpu, stealBetween } from './lib/steal.js';

const ROWS = 500;
const LOADS = 7;
const BUNDLE_TARGET_KB = 200;
const RENDER_TARGET_MS = 200;

const log = (line: string) => process.stderr.write(`  ${line}\n`);

/** The files index.html loads at once: module scripts, stylesheets and modulepreloads. */
export function initialAssets(html: string): string[] {
  const refs = new Set<string>();
  for (const m of html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"[^>]*>/g)) refs.add(m[1]!);
  for (const m of html.matchAll(/<link\b[^>]*>/g)) {
    const tag = m[0];
    const href = /\bhref="([^"]+)"/.exec(tag)?.[1];
    if (href && /\brel="(stylesheet|modulepreload)"/.test(tag)) refs.add(href);
  }
  return [...refs].filter((r) => r.startsWith('/'));
}

/** Gzipped bytes of what index.html in `dir` loads initially. */
function initialGzipBytes(dir: string): { bytes: number; files: string[] } {
  const files = initialAssets(readFileSync(join(dir, 'index.html'), 'utf8'));
  const bytes = files.reduce((n, f) => n + gzipSync(readFileSync(join(dir, f)), { level: 9 }).length, 0);
  return { bytes, files };
}

/** Builds the dashboard, and a one-paragraph React app, with Vite into `out`. */
async function buildBundles(out: string): Promise<{ app: string; floor: string }> {
  const app = join(out, 'app');
  await build({ root: join(ROOT, 'web'), configFile: join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn', build: { outDir: app, emptyOutDir: true } });
  // Inside the project, so `react` resolves from its node_modules.
  const floorSrc = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'enrichd-bench-floor-'));
  try {
    writeFileSync(join(floorSrc, 'index.html'), '<!doctype html><html lang="en"><body><div id="root"></div><script type="module" src="/main.js"></script></body></html>\n');
    writeFileSync(
      join(floorSrc, 'main.js'),
      "import { createElement } from 'react';\nimport { createRoot } from 'react-dom/client';\ncreateRoot(document.getElementById('root')).render(createElement('p', null, 'hello'));\n",
    );
    const floor = join(out, 'floor');
    await build({ root: floorSrc, configFile: false, logLevel: 'warn', build: { outDir: floor, emptyOutDir: true, target: 'es2022' } });
    return { app, floor };
  } finally {
    rmSync(floorSrc, { recursive: true, force: true });
  }
}

// The baseline, run in the page: the same jobs as a plain table through innerHTML.
const PLAIN_TABLE = `(async () => {
  const token = sessionStorage.getItem('enrichd.token');
  const res = await fetch('/v1/enrichment/jobs?limit=${ROWS}', { headers: { authorization: 'Bearer ' + token } });
  const page = await res.json();
  const host = document.createElement('div');
  document.body.append(host);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  const t0 = performance.now();
  host.innerHTML = '<table><tbody>' + page.items.map((j) => '<tr><td><input type="checkbox"></td><td><a href="#/jobs/' + j.id + '">' + j.id.slice(0, 8) +
    '</a></td><td>' + esc(j.type) + '</td><td>' + j.status + '</td><td>' + j.progress.processed + ' / ' + j.progress.total + '</td><td>' +
    j.tags.map(esc).join(' ') + '</td><td>' + esc(j.createdAt) + '</td></tr>').join('') + '</tbody></table>';
  void document.body.offsetHeight;
  const ms = performance.now() - t0;
  host.remove();
  return { ms, rows: page.items.length };
})()`;

/** Submits `n` test_jobs through the API, 25 at a time. */
async function submitJobs(base: string, token: string, n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const res = await fetch(`${base}/v1/enrichment/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'test_job', payload: { n: i }, tags: [`batch-${i % 5}`, i % 2 === 0 ? 'even' : 'odd'], priority: 1 + (i % 5) }),
      });
      if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 25 }, worker));
}

/** Median in-page render time of the jobs view with 500 rows, and of the plain-table baseline. */
async function measureRender(base: string, token: string): Promise<{ app: number[]; plain: number[] }> {
  const browser = await launchChromium('desktop');
  const { page } = browser;
  try {
    await page.goto(`${base}/#token=${token}`);
    await page.getByRole('heading', { level: 1, name: 'Jobs' }).waitFor();
    const app: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i <= LOADS; i++) {
      await page.goto(`${base}/#/jobs?limit=${ROWS}`);
      await page.reload();
      await page.waitForFunction(`performance.getEntriesByName('jobs-rows-render').length > 0`, undefined, { timeout: 30_000 });
      const rows = await page.locator('table.jobs tbody tr').count();
      if (rows !== ROWS) throw new Error(`the jobs view shows ${rows} rows, not ${ROWS}`);
      const ms = (await page.evaluate(`performance.getEntriesByName('jobs-rows-render')[0].duration`)) as number;
      const table = (await page.evaluate(PLAIN_TABLE)) as { ms: number; rows: number };
      if (table.rows !== ROWS) throw new Error(`the baseline got ${table.rows} jobs`);
      if (i > 0) {
        app.push(ms);
        plain.push(table.ms);
      }
    }
    if (browser.errors.length > 0) throw new Error(`the page logged errors: ${browser.errors.join('; ')}`);
    return { app, plain };
  } finally {
    await browser.close();
  }
}

export const bench: BenchModule = {
  name: 'dashboard',
  async run() {
    const figures: Figure[] = [];
    const out = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'enrichd-bench-dashboard-'));
    const env = await openBenchEnv();
    try {
      const bundles = await buildBundles(out);
      const appSize = initialGzipBytes(bundles.app);
      const floorSize = initialGzipBytes(bundles.floor);
      log(`initial bundle: ${appSize.files.join(', ')} = ${(appSize.bytes / 1024).toFixed(1)} KiB gzipped; bare React ${(floorSize.bytes / 1024).toFixed(1)} KiB`);
      figures.push({
        name: '(a) dashboard initial bundle, gzip',
        unit: 'KB',
        value: appSize.bytes / 1024,
        baseline: floorSize.bytes / 1024,
        target: `< ${BUNDLE_TARGET_KB} KB`,
        pass: appSize.bytes / 1024 < BUNDLE_TARGET_KB,
        steal: 0,
        tries: 1,
      });

      // The bench build serves the dashboard from its own dist/web.
      mkdirSync(join(env.build.dist, 'web'), { recursive: true });
      cpSync(bundles.app, join(env.build.dist, 'web'), { recursive: true });
      const prefix = env.prefix(`dash-${randomUUID().slice(0, 6)}`);
      const { port } = await startApi(env, prefix);
      const base = `http://127.0.0.1:${port}`;
      await submitJobs(base, env.token, ROWS);
      log(`submitted ${ROWS} jobs; Chromium ${CHROMIUM_ARGS.length} flags, ${LOADS} loads after a warm-up`);
      const before = sampleCpu();
      const render = await measureRender(base, env.token);
      const steal = stealBetween(before, sampleCpu());
      const median = percentile(render.app, 50);
      log(`jobs view, ${ROWS} rows: ${render.app.map((v) => v.toFixed(1)).join(', ')} ms; plain table: ${render.plain.map((v) => v.toFixed(1)).join(', ')} ms`);
      figures.push({
        name: `(b) jobs view renders ${ROWS} rows (median)`,
        unit: 'ms',
        value: median,
        baseline: percentile(render.plain, 50),
        target: `< ${RENDER_TARGET_MS} ms`,
        pass: median < RENDER_TARGET_MS,
        steal,
        tries: 1,
      });
      return figures;
    } finally {
      await stopAll();
      await env.close();
      rmSync(out, { recursive: true, force: true });
    }
  },
};
