// Pipeline benchmark (issue 3, figures b and c): a 1,000,000-entry list_enrichment with the four
// local steps and WORKER_COUNT=2, end to end, beside the same steps as plain calls on one thread
// over the same entries in memory; each worker's peak RSS; and how long a 100-entry job takes
// while the million-entry job runs.
import { randomUUID } from 'node:crypto';
import { enrichEntry } from '../src/enrich/plan.js';
import { type BenchEnv, openBenchEnv } from './lib/env.js';
import { seedList } from './lib/seed-list.js';
import { febrlEntry } from './lib/people.js';
import { startTwoWorkers } from './lib/enrichd-procs.js';
import { memoryOf } from './lib/procfs.js';
import { type Child, freePort, spawnNode, stopAll, waitForHttp } from './lib/proc.js';
import type { BenchModule, Figure } from './lib/report.js';
import { sampleCpu, stealBetween } from './lib/steal.js';
import { cpuMeter, formatCores } from './lib/cpu.js';

const ENTRIES = Number(process.env.BENCH_LIST_ENTRIES ?? 1_000_000);
const CHUNK_SIZE = 2000;
const SMALL = 100;
const STEPS = [
  { type: 'rpc_score', options: {} },
  { type: 'email_validation', options: {} },
  { type: 'phone_normalization', options: {} },
  { type: 'company_domain', options: {} },
] as const;
// The plain-call baseline runs over this many of the same entries (its rate is steady by then).
const BASELINE_ENTRIES = Math.min(ENTRIES, 200_000);

const RATIO_TARGET = 0.8;
const RATE_TARGET = 12_000;
const RSS_TARGET_MB = 400;
const SMALL_TARGET_MS = 2000;

const log = (line: string) => process.stderr.write(`  ${line}\n`);

export const bench: BenchModule = {
  name: 'list-pipeline',
  async run() {
    const env = await openBenchEnv();
    try {
      return await measure(env);
    } finally {
      await stopAll();
      await env.close();
    }
  },
};

/** The same steps as plain calls on this one thread, over entries already in memory. */
function plainCallsRate(): number {
  const BATCH = 10_000;
  let timed = 0;
  let done = 0;
  for (let start = 0; start < BASELINE_ENTRIES; start += BATCH) {
    const entries = Array.from({ length: Math.min(BATCH, BASELINE_ENTRIES - start) }, (_, k) => febrlEntry(start + k));
    const t0 = performance.now();
    for (const e of entries) enrichEntry(STEPS as never, e);
    timed += performance.now() - t0;
    done += entries.length;
  }
  return done / (timed / 1000);
}

async function post(url: string, token: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 202 && res.status !== 201) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
}

async function jobStatus(base: string, token: string, id: string): Promise<{ status: string; progress: { processed: number } }> {
  const res = await fetch(`${base}/v1/enrichment/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } });
  return (await res.json()) as { status: string; progress: { processed: number } };
}

async function measure(env: BenchEnv): Promise<Figure[]> {
  log(`seeding ${ENTRIES} FEBRL-like entries`);
  const bigList = await seedList(env, `bench ${ENTRIES}`, ENTRIES, febrlEntry);
  const smallList = await seedList(env, `bench ${SMALL}`, SMALL, febrlEntry);
  const planId = randomUUID();
  await env.query('INSERT INTO enrichment_plans (id, tenant_id, name, steps) VALUES ($1, $2, $3, $4)', [planId, env.tenantId, 'bench', JSON.stringify(STEPS)]);

  log(`plain calls over ${BASELINE_ENTRIES} entries on one thread`);
  const baseline = plainCallsRate();
  log(`plain calls: ${baseline.toFixed(0)} entries/s`);

  const port = await freePort();
  const prefix = env.prefix('pipeline');
  const common = { LIST_CHUNK_WINDOW: '8', MAX_CONCURRENT_JOBS: '4' };
  const api: Child = spawnNode('enrichd api', [env.build.bin, 'api'], { env: env.enrichdEnv(prefix, { ...common, PORT: String(port) }) });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/health`, api);
  const { workers, workerPids } = await startTwoWorkers(env, prefix, common);

  const cpu0 = sampleCpu();
  const cpuUsed = cpuMeter((pid, cmd) => {
    if (pid === api.proc.pid) return 'api';
    if (workerPids.includes(pid)) return 'workers';
    if (pid === process.pid) return 'bench';
    if (cmd.startsWith('postgres:') && cmd.includes(env.databaseName)) return 'postgres';
    if (cmd.startsWith('postgres:')) return 'postgres (other)';
    if (cmd.startsWith('redis-server')) return 'redis';
    return undefined;
  });
  const big = await post(`${base}/v1/enrichment/jobs`, env.token, { type: 'list_enrichment', payload: { listId: bigList, planId, chunkSize: CHUNK_SIZE } });
  // (c) once the giant is well under way.
  for (;;) {
    const s = await jobStatus(base, env.token, big.id);
    if (s.progress.processed >= Math.min(100_000, ENTRIES / 4) || s.status !== 'running' && s.status !== 'pending') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const smallMs = await (async () => {
    const t0 = performance.now();
    const small = await post(`${base}/v1/enrichment/jobs`, env.token, { type: 'list_enrichment', payload: { listId: smallList, planId } });
    for (;;) {
      const s = await jobStatus(base, env.token, small.id);
      if (s.status === 'completed') break;
      if (s.status === 'failed' || s.status === 'cancelled') throw new Error(`small job ${s.status}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const ms = performance.now() - t0;
    const bigNow = await jobStatus(base, env.token, big.id);
    log(`100-entry job: ${ms.toFixed(0)} ms (the big job at ${bigNow.progress.processed} entries, ${bigNow.status})`);
    return ms;
  })();
  for (;;) {
    const s = await jobStatus(base, env.token, big.id);
    if (s.status === 'completed') break;
    if (s.status === 'failed' || s.status === 'cancelled') throw new Error(`big job ${s.status}\n${workers.map((w) => w.tail).join('\n')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const steal = stealBetween(cpu0, sampleCpu());
  log(`cpu (cores) during the run: ${formatCores(cpuUsed())}`);
  const [row] = await env.query<{ secs: number; processed: number; results: number }>(
    `SELECT extract(epoch FROM completed_at - created_at)::float8 AS secs, progress_processed AS processed,
            (SELECT count(*)::int FROM entry_results WHERE job_id = $1::uuid) AS results
     FROM enrichment_jobs WHERE id = $1::uuid`,
    [big.id],
  );
  if (row!.processed !== ENTRIES || row!.results !== ENTRIES) throw new Error(`big job processed ${row!.processed}, ${row!.results} results, of ${ENTRIES}`);
  const rate = ENTRIES / row!.secs;
  const rss = workerPids.map((pid) => memoryOf(pid).hwm);
  log(`end to end: ${rate.toFixed(0)} entries/s (${row!.secs.toFixed(1)} s), worker peak RSS ${rss.map((r) => r.toFixed(0)).join(' / ')} MB`);
  for (const w of workers) await w.stop();
  await api.stop();

  const fig = (f: Omit<Figure, 'steal' | 'tries'>): Figure => ({ ...f, steal, tries: 1 });
  return [
    fig({ name: `(b) ${ENTRIES / 1e6}M-entry list job, 4 steps, 2 workers`, unit: 'entries/s', value: rate, baseline, target: `ratio >= ${RATIO_TARGET}`, pass: rate / baseline >= RATIO_TARGET }),
    fig({ name: '(b) same, absolute', unit: 'entries/s', value: rate, baseline: Number.NaN, target: `>= ${RATE_TARGET}`, pass: rate >= RATE_TARGET }),
    fig({ name: '(b) worker peak RSS (highest of 2)', unit: 'MB', value: Math.max(...rss), baseline: Number.NaN, target: `< ${RSS_TARGET_MB}`, pass: Math.max(...rss) < RSS_TARGET_MB }),
    fig({ name: '(c) 100-entry job during the big one', unit: 'ms', value: smallMs, baseline: Number.NaN, target: `< ${SMALL_TARGET_MS}`, pass: smallMs < SMALL_TARGET_MS }),
  ];
}
