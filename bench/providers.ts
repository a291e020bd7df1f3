// Provider benchmark (issue 5, point 9): 100,000 lookups through a list_enrichment job with one
// `provider` step (Hunter email finder) against the simulator at 20 ms latency, two worker
// processes sharing a limit of 2,000 calls per second. Figures: the rate achieved at the
// simulator against the limit, the most calls in any sliding 1 s window there, and the same list
// run again by the same tenant: zero calls, every entry answered from the PostgreSQL cache.
import { cpus } from 'node:os';
import { randomUUID } from 'node:crypto';
import { maxInWindow } from '../src/providers/sim/stats.js';
import { type BenchEnv, openBenchEnv } from './lib/env.js';
import { seedList } from './lib/seed-list.js';
import { lookupPerson } from './lib/lookup-people.js';
import { startTwoWorkers } from './lib/enrichd-procs.js';
import { type Child, freePort, spawnNode, stopAll, waitForHttp } from './lib/proc.js';
import { type SimProcess, startSimProcess } from './lib/sim-process.js';
import type { BenchModule, Figure } from './lib/report.js';
import { sampleCpu, stealBetween } from './lib/steal.js';
import { cpuMeter, formatCores } from './lib/cpu.js';

const ENTRIES = Number(process.env.BENCH_PROVIDER_ENTRIES ?? 100_000);
const LIMIT = Number(process.env.BENCH_PROVIDER_LIMIT ?? 2000);
const LATENCY_MS = 20;
const HIT_RATE = 0.7;
/**
 * RATE_LIMIT_MARGIN_MS for this run: the product's default, 50 ms. A window counts each call
 * that much longer than its length, which caps the rate at 1000/1050 = 0.952 of the limit; a
 * smaller margin reaches more but lets the jitter between a grant and the call's arrival
 * (event-loop delays on two busy cores) overfill a window at the provider (15 ms: 2,036 calls
 * in one second against 2,000).
 */
const MARGIN_MS = Number(process.env.BENCH_PROVIDER_MARGIN_MS ?? 50);
const CHUNK_SIZE = Number(process.env.BENCH_PROVIDER_CHUNK ?? 500);
const CHUNK_WINDOW = process.env.BENCH_PROVIDER_WINDOW ?? '12';
const RATE_RATIO_TARGET = 0.95;
const PLAN = [{ type: 'provider', options: { providers: ['hunter'], want: 'email' } }] as const;

const log = (line: string) => process.stderr.write(`  ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const bench: BenchModule = {
  name: 'providers',
  async run() {
    const env = await openBenchEnv();
    try {
      const sim = await startSimProcess(env.build.bin, ['--seed', 'bench', '--latency-ms', String(LATENCY_MS), '--hit-rate', String(HIT_RATE)]);
      return await measure(env, sim);
    } finally {
      await stopAll();
      await env.close();
    }
  },
};

async function post(url: string, token: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 202 && res.status !== 201) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
}

async function jobStatus(base: string, token: string, id: string): Promise<{ status: string; progress: { processed: number } }> {
  const res = await fetch(`${base}/v1/enrichment/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } });
  return (await res.json()) as { status: string; progress: { processed: number } };
}

interface JobRun {
  id: string;
  secs: number;
  processed: number;
  results: number;
  /** entries whose step answered from the cache (no call) */
  cached: number;
  /** entries whose step ended in error */
  errors: number;
  /** provider_calls rows of the job by kind */
  calls: number;
  cacheHits: number;
  /** mean latency of the job's calls as the adapter measured it */
  callMs: number;
  /** chunks making calls at once, on average (each chunk's first to last call record) */
  chunksAtOnce: number;
}

/** Submits a list_enrichment job over the list and waits for it to end. */
async function runJob(env: BenchEnv, base: string, listId: string, planId: string, workers: Child[], label: string): Promise<JobRun> {
  const job = await post(`${base}/v1/enrichment/jobs`, env.token, { type: 'list_enrichment', payload: { listId, planId, chunkSize: CHUNK_SIZE } });
  let lastLog = Date.now();
  for (;;) {
    const s = await jobStatus(base, env.token, job.id);
    if (s.status === 'completed') break;
    if (s.status === 'failed' || s.status === 'cancelled') throw new Error(`${label} job ${s.status}\n${workers.map((w) => w.tail).join('\n')}`);
    if (Date.now() - lastLog > 10_000) {
      log(`${label}: ${s.progress.processed} of ${ENTRIES} entries`);
      lastLog = Date.now();
    }
    await sleep(250);
  }
  const [row] = await env.query<Omit<JobRun, 'id'>>(
    `SELECT extract(epoch FROM j.completed_at - j.created_at)::float8 AS secs, j.progress_processed AS processed,
            (SELECT count(*)::int FROM entry_results r WHERE r.job_id = j.id) AS results,
            (SELECT count(*)::int FROM entry_results r WHERE r.job_id = j.id AND (r.results -> 'provider' -> 'attempts' -> 0 ->> 'cached') = 'true') AS cached,
            (SELECT count(*)::int FROM entry_results r WHERE r.job_id = j.id AND r.errors IS NOT NULL) AS errors,
            (SELECT count(*)::int FROM provider_calls c WHERE c.job_id = j.id AND c.kind = 'call') AS calls,
            (SELECT count(*)::int FROM provider_calls c WHERE c.job_id = j.id AND c.kind = 'cache_hit') AS "cacheHits",
            (SELECT coalesce(avg(latency_ms), 0)::float8 FROM provider_calls c WHERE c.job_id = j.id AND c.kind = 'call') AS "callMs",
            (SELECT coalesce(sum(span), 0)::float8 / nullif(extract(epoch FROM max(last) - min(first)), 0)
               FROM (SELECT extract(epoch FROM max(c.at) - min(c.at))::float8 AS span, min(c.at) AS first, max(c.at) AS last
                     FROM provider_calls c JOIN list_job_chunks k ON k.job_id = c.job_id AND c.entry_key::bigint BETWEEN k.first_entry_id AND k.last_entry_id
                     WHERE c.job_id = j.id GROUP BY k.seq) x) AS "chunksAtOnce"
     FROM enrichment_jobs j WHERE j.id = $1::uuid`,
    [job.id],
  );
  return { id: job.id, ...row! };
}

/** Samples pg_stat_activity of the bench database every 200 ms; the stop function gives mean sessions per state/wait. */
function sampleActivity(env: BenchEnv): () => Promise<string> {
  const counts = new Map<string, number>();
  let samples = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const rows = await env.query<{ k: string; n: number }>(
        `SELECT coalesce(state, '-') || '/' || coalesce(wait_event_type, '') || ':' || coalesce(wait_event, '') AS k, count(*)::int AS n
         FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() GROUP BY 1`,
        [env.databaseName],
      );
      samples++;
      for (const r of rows) counts.set(r.k, (counts.get(r.k) ?? 0) + r.n);
      await sleep(200);
    }
  })();
  return async () => {
    stop = true;
    await loop;
    return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${(n / samples).toFixed(1)}`).join(', ');
  };
}

async function measure(env: BenchEnv, sim: SimProcess): Promise<Figure[]> {
  log(`seeding ${ENTRIES} distinct people (name + company domain)`);
  const listId = await seedList(env, `people ${ENTRIES}`, ENTRIES, lookupPerson);
  const planId = randomUUID();
  await env.query('INSERT INTO enrichment_plans (id, tenant_id, name, steps) VALUES ($1, $2, $3, $4)', [planId, env.tenantId, 'hunter email', JSON.stringify(PLAN)]);

  const port = await freePort();
  const prefix = env.prefix('providers');
  const common = {
    LIST_CHUNK_WINDOW: CHUNK_WINDOW,
    MAX_CONCURRENT_JOBS: process.env.BENCH_PROVIDER_JOBS ?? '6',
    HUNTER_API_KEY: 'bench-key',
    HUNTER_BASE_URL: sim.hunterUrl,
    HUNTER_RATE_LIMIT_PER_SECOND: String(LIMIT),
    // High enough not to bind: the per-second limit alone decides.
    HUNTER_RATE_LIMIT_PER_MINUTE: String(LIMIT * 60 * 2),
    HUNTER_RATE_LIMIT_PER_HOUR: String(LIMIT * 3600 * 2),
    RATE_LIMIT_MARGIN_MS: String(MARGIN_MS),
  };
  const api: Child = spawnNode('enrichd api', [env.build.bin, 'api'], { env: env.enrichdEnv(prefix, { ...common, PORT: String(port) }) });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/health`, api);
  const { workers, workerPids } = await startTwoWorkers(env, prefix, common);
  await sim.reset();

  // First run: every entry is a call, paced by the limiter.
  const cpu0 = sampleCpu();
  const cpuUsed = cpuMeter((pid, cmd) => {
    if (pid === api.proc.pid) return 'api';
    if (workerPids.includes(pid)) return 'workers';
    if (pid === process.pid || pid === sim.child.proc.pid) return 'bench + simulator';
    if (cmd.startsWith('postgres:') && cmd.includes(env.databaseName)) return 'postgres';
    if (cmd.startsWith('postgres:')) return 'postgres (other)';
    if (cmd.startsWith('redis-server')) return 'redis';
    return undefined;
  });
  log(`first run: ${ENTRIES} lookups, limit ${LIMIT}/s, margin ${MARGIN_MS} ms, chunks of ${CHUNK_SIZE}, window ${CHUNK_WINDOW}`);
  const diag = process.env.BENCH_PROVIDER_DIAG ? sampleActivity(env) : null;
  const t0 = performance.now();
  const first = await runJob(env, base, listId, planId, workers, 'first run');
  const elapsedMs = performance.now() - t0;
  if (diag) log(`first run: postgres sessions (mean over samples): ${await diag()}`);
  const steal1 = stealBetween(cpu0, sampleCpu());
  const cores = cpuUsed();
  const s1 = (await sim.stats()).providers.hunter;
  const arrivals = s1.arrivals;
  const firstAt = arrivals.reduce((a, b) => Math.min(a, b), Infinity);
  const lastAt = arrivals.reduce((a, b) => Math.max(a, b), -Infinity);
  const rate = arrivals.length > 1 ? arrivals.length / ((lastAt - firstAt) / 1000) : 0;
  const maxWindow = maxInWindow(arrivals, 1000);
  log(
    `first run: ${first.processed} entries in ${first.secs.toFixed(1)} s (${(first.processed / first.secs).toFixed(0)} entries/s); ` +
      `${s1.calls} calls at the simulator (${s1.outcomes.hit} hits, ${s1.outcomes.miss} misses, ${s1.outcomes.throttled} throttled, ${s1.outcomes.error} errors) ` +
      `over ${((lastAt - firstAt) / 1000).toFixed(1)} s = ${rate.toFixed(0)}/s; max in a sliding 1 s window ${maxWindow}`,
  );
  if (process.env.BENCH_DEBUG) {
    // Where the busiest second was, and the calls per 50 ms around it.
    const sorted = [...arrivals].sort((a, b) => a - b);
    let best = 0;
    let at = 0;
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while (sorted[i]! - sorted[j]! >= 1000) j++;
      if (i - j + 1 > best) [best, at] = [i - j + 1, sorted[j]!];
    }
    const buckets: number[] = [];
    for (const t of sorted) if (t >= at - 500 && t < at + 1500) buckets[Math.floor((t - at + 500) / 50)] = (buckets[Math.floor((t - at + 500) / 50)] ?? 0) + 1;
    log(`busiest second from ${(at - firstAt).toFixed(0)} ms: ${best} calls; per 50 ms from 500 ms before: ${Array.from(buckets, (b) => b ?? 0).join(' ')}`);
  }
  log(`first run: job's records: ${first.calls} calls, ${first.cacheHits} entries re-read from the cache after a deferral; ${first.errors} entries in error; mean call latency ${first.callMs.toFixed(1)} ms; chunks at once ${first.chunksAtOnce.toFixed(1)}`);
  // CPU time per lookup (ms): what one core-second buys, and so what this machine's cores can sustain.
  const cpuPerLookup = (group: string) => ((cores[group] ?? 0) * elapsedMs) / ENTRIES;
  const ownMs = ['workers', 'postgres', 'redis', 'bench + simulator', 'api'].reduce((n, g) => n + cpuPerLookup(g), 0);
  log(`first run cpu (cores): ${formatCores(cores)}; per lookup: workers ${cpuPerLookup('workers').toFixed(2)} ms, postgres ${cpuPerLookup('postgres').toFixed(2)} ms, all of ours ${ownMs.toFixed(2)} ms on ${cpus().length} cores`);
  if (first.processed !== ENTRIES || first.results !== ENTRIES) throw new Error(`first job processed ${first.processed}, ${first.results} results, of ${ENTRIES}`);

  // Second run: the same list, the same tenant: every answer from the cache.
  await sim.reset();
  const cpu1 = sampleCpu();
  log('second run: the same list again');
  const second = await runJob(env, base, listId, planId, workers, 'second run');
  const steal2 = stealBetween(cpu1, sampleCpu());
  const s2 = (await sim.stats()).providers.hunter;
  log(
    `second run: ${second.processed} entries in ${second.secs.toFixed(1)} s (${(second.processed / second.secs).toFixed(0)} entries/s); ` +
      `${s2.calls} calls at the simulator; ${second.cached} of ${second.results} entries answered from the cache, ${second.errors} in error`,
  );
  for (const w of workers) await w.stop();
  await api.stop();

  const f1 = (f: Omit<Figure, 'steal' | 'tries'>): Figure => ({ ...f, steal: steal1, tries: 1 });
  const f2 = (f: Omit<Figure, 'steal' | 'tries'>): Figure => ({ ...f, steal: steal2, tries: 1 });
  const allCached = second.processed === ENTRIES && second.cached === ENTRIES && second.errors === 0;
  const lim = `${LIMIT.toLocaleString('en-US')}/s`;
  return [
    f1({ name: `(9) achieved call rate at the simulator, limit ${lim}, margin ${MARGIN_MS} ms`, unit: 'calls/s', value: rate, baseline: LIMIT, target: `ratio >= ${RATE_RATIO_TARGET}`, pass: rate / LIMIT >= RATE_RATIO_TARGET }),
    f1({ name: '(9) most calls in any sliding 1 s window', unit: 'calls', value: maxWindow, baseline: LIMIT, target: `<= ${LIMIT}`, pass: maxWindow <= LIMIT }),
    f1({ name: `(9) first run: ${ENTRIES.toLocaleString('en-US')} lookups, 2 workers, wall time`, unit: 's', value: first.secs, baseline: Number.NaN, target: '-', pass: null }),
    f1({ name: '(9) first run: entries/s', unit: 'entries/s', value: first.processed / first.secs, baseline: Number.NaN, target: '-', pass: null }),
    f1({ name: '(9) first run: CPU per lookup (workers, PG, Redis, sim, api)', unit: 'ms', value: ownMs, baseline: Number.NaN, target: '-', pass: null }),
    f2({ name: '(9) same list again: calls at the simulator', unit: 'calls', value: s2.calls, baseline: Number.NaN, target: `0, all ${ENTRIES.toLocaleString('en-US')} from cache`, pass: s2.calls === 0 && allCached }),
    f2({ name: '(9) same list again: wall time', unit: 's', value: second.secs, baseline: Number.NaN, target: '-', pass: null }),
    f2({ name: '(9) same list again: entries/s', unit: 'entries/s', value: second.processed / second.secs, baseline: Number.NaN, target: '-', pass: null }),
  ];
}
