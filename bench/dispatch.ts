// Dispatch benchmark: submit throughput (a), POST-to-start latency (b) and completion rate (c),
// each beside a bare Fastify/BullMQ baseline measured in the same run.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon, { type Result } from 'autocannon';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/runtime/services.js';
import { type BenchEnv, REDIS_URL, deleteKeys, openBenchEnv } from './lib/env.js';
import { isReady, isSpan, isStamps } from './lib/messages.js';
import { type Child, freePort, spawnNode, spawnScript, stopAll, waitForHttp } from './lib/proc.js';
import { type BenchModule, type Figure, percentile } from './lib/report.js';
import { type Measured, withStealRetry } from './lib/steal.js';
import { cpuMeter, formatCores } from './lib/cpu.js';

const CONNECTIONS = 50;
const DURATION_S = 10;
const WARMUP_S = 2;
const RATE = 300;
// Long enough for both sides to reach steady state: JIT, pool connections, PostgreSQL caches.
const LATENCY_WARMUP_MS = 3000;
// (c) names its worker's concurrency; (a) and (b) do not, so they run the default, MAX_CONCURRENT_JOBS=10.
const CONCURRENCY_C = 100;
const CONCURRENCY_DEFAULT = 10;
const JOBS = 20_000;

const SUBMIT_RATIO_TARGET = 0.65;
const P99_TARGET_MS = 15;
const COMPLETE_RATIO_TARGET = 0.4;

const BODY = JSON.stringify({ type: 'test_job', payload: {} });
const now = () => performance.timeOrigin + performance.now();
const log = (line: string) => process.stderr.write(`  ${line}\n`);

// The same task options as enrichd's taskOptions, so both sides make Redis do the same per task.
const taskOpts = (jobId: string) => ({ jobId, priority: 3, attempts: 1_000_000, removeOnComplete: true, removeOnFail: true });

export const bench: BenchModule = {
  name: 'dispatch',
  async run() {
    // BENCH_FIGURES=a,c runs only those (for working on one figure; the full run needs all).
    const only = new Set((process.env.BENCH_FIGURES ?? 'a,b,c').split(',').map((f) => f.trim()));
    const env = await openBenchEnv();
    try {
      const figures: Figure[] = [];
      if (only.has('a')) figures.push(...figuresA(await withStealRetry(() => submitThroughput(env))));
      if (only.has('b')) figures.push(...figuresB(await withStealRetry(() => startLatency(env))));
      if (only.has('c')) figures.push(...figuresC(await withStealRetry(() => completionRate(env))));
      return figures;
    } finally {
      await stopAll();
      await env.close();
    }
  },
};

interface Pair {
  value: number;
  baseline: number;
}

function figuresA(m: Measured<Pair>): Figure[] {
  const { value, baseline } = m.value;
  return [{
    name: `(a) submit throughput, ${CONNECTIONS} conns`,
    unit: 'req/s',
    value,
    baseline,
    target: `ratio >= ${SUBMIT_RATIO_TARGET}`,
    pass: value / baseline >= SUBMIT_RATIO_TARGET,
    steal: m.steal,
    tries: m.tries,
  }];
}

interface Latencies {
  value: number[];
  baseline: number[];
}

function figuresB(m: Measured<Latencies>): Figure[] {
  return ([50, 95, 99] as const).map((p) => {
    const value = percentile(m.value.value, p);
    return {
      name: `(b) POST -> start p${p} @ ${RATE}/s`,
      unit: 'ms',
      value,
      baseline: percentile(m.value.baseline, p),
      target: p === 99 ? `< ${P99_TARGET_MS} ms` : '-',
      pass: p === 99 ? value < P99_TARGET_MS : null,
      steal: m.steal,
      tries: m.tries,
    };
  });
}

function figuresC(m: Measured<Pair>): Figure[] {
  const { value, baseline } = m.value;
  return [{
    name: `(c) completed jobs/s, conc ${CONCURRENCY_C}`,
    unit: 'jobs/s',
    value,
    baseline,
    target: `ratio >= ${COMPLETE_RATIO_TARGET}`,
    pass: value / baseline >= COMPLETE_RATIO_TARGET,
    steal: m.steal,
    tries: m.tries,
  }];
}

// ---------- shared steps ----------

/** Starts `enrichd api` on a free port and waits until it is ready (under --cpu-prof with BENCH_PROFILE_DIR). */
async function startApi(env: BenchEnv, prefix: string): Promise<{ api: Child; port: number }> {
  const port = await freePort();
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const api = spawnNode('enrichd api', [...profile, env.build.bin, 'api'], { env: env.enrichdEnv(prefix, { PORT: String(port) }) });
  await waitForHttp(`http://127.0.0.1:${port}/ready`, api);
  return { api, port };
}

/** Starts `enrichd worker` (one in-process worker) and waits until it has registered. */
async function startWorker(env: BenchEnv, prefix: string, concurrency: number): Promise<Child> {
  // BENCH_PROFILE_DIR=<dir>: the worker runs under --cpu-prof, for finding where its time goes.
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const worker = spawnNode('enrichd worker', [...profile, env.build.bin, 'worker'], {
    env: env.enrichdEnv(prefix, { WORKER_COUNT: '1', MAX_CONCURRENT_JOBS: String(concurrency) }),
  });
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (!worker.alive) throw new Error(`enrichd worker exited early\n${worker.tail}`);
    const rows = await env.query<{ n: number }>('SELECT count(*)::int AS n FROM enrichment_workers WHERE stopped_at IS NULL');
    if ((rows[0]?.n ?? 0) > 0) return worker;
    await sleep(100);
  }
  throw new Error(`enrichd worker did not register within 30 s\n${worker.tail}`);
}

/** Starts the bare BullMQ worker child and waits until it is connected. */
async function startBareWorker(prefix: string, mode: 'run' | 'stamp' | 'count', concurrency: number, expect = 0): Promise<Child> {
  const child = spawnScript('bare worker', 'bench/lib/bare-worker.ts', {
    env: { REDIS_URL, QUEUE_PREFIX: prefix, MAX_CONCURRENT_JOBS: String(concurrency), BENCH_MODE: mode, BENCH_EXPECT: String(expect), LOG_LEVEL: 'warn' },
    ipc: true,
  });
  await child.message(isReady);
  return child;
}

/** Counts CPU per group (the bench, each child, this database's PostgreSQL backends, Redis) until the returned function is called, which logs it. */
function watchCpu(env: BenchEnv, children: Record<string, Child>, label: string): () => void {
  const names = new Map(Object.entries(children).map(([name, c]) => [c.proc.pid, name]));
  const stop = cpuMeter((pid, cmd) => {
    if (pid === process.pid) return 'bench';
    const name = names.get(pid);
    if (name) return name;
    if (cmd.startsWith('postgres:') && cmd.includes(env.databaseName)) return 'postgres';
    if (cmd.startsWith('redis-server')) return 'redis';
    return undefined;
  });
  return () => log(`${label} cpu (cores): ${formatCores(stop())}`);
}

/** Cleans up after one side of a measurement. */
async function teardown(env: BenchEnv, prefix: string, children: Child[]): Promise<void> {
  for (const c of children) await c.stop();
  await deleteKeys(`${prefix}:*`);
  await env.resetJobs();
}

// ---------- (a) submit throughput ----------

async function cannon(port: number, token: string): Promise<number> {
  const r: Result = await autocannon({
    url: `http://127.0.0.1:${port}/v1/enrichment/jobs`,
    connections: CONNECTIONS,
    duration: DURATION_S,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: BODY,
    warmup: { connections: CONNECTIONS, duration: WARMUP_S },
  });
  log(`autocannon: ${r['2xx']} 2xx in ${r.duration.toFixed(1)} s, latency p50 ${r.latency.p50} p99 ${r.latency.p99} ms`);
  if (r.non2xx > 0 || r.errors > 0) log(`warning: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  return r['2xx'] / r.duration;
}

async function submitThroughput(env: BenchEnv): Promise<Pair> {
  log('(a) baseline: bare Fastify + queue.add, bare worker');
  const bp = env.prefix('a-bare');
  const bareWorker = await startBareWorker(bp, 'run', CONCURRENCY_DEFAULT);
  const port = await freePort();
  const bareApi = spawnScript('bare api', 'bench/lib/bare-api.ts', { env: { REDIS_URL, QUEUE_PREFIX: bp, PORT: String(port), LOG_LEVEL: 'warn' } });
  await waitForHttp(`http://127.0.0.1:${port}/health`, bareApi);
  const bareCpu = watchCpu(env, { api: bareApi, worker: bareWorker }, '(a) bare');
  const baseline = await cannon(port, env.token);
  bareCpu();
  await teardown(env, bp, [bareApi, bareWorker]);

  log('(a) enrichd: enrichd api + enrichd worker');
  const p = env.prefix('a');
  const worker = await startWorker(env, p, CONCURRENCY_DEFAULT);
  const { api, port: apiPort } = await startApi(env, p);
  const cpu = watchCpu(env, { api, worker }, '(a) enrichd');
  const value = await cannon(apiPort, env.token);
  cpu();
  await teardown(env, p, [api, worker]);
  log(`(a) ${value.toFixed(0)} vs ${baseline.toFixed(0)} req/s`);
  return { value, baseline };
}

// ---------- (b) POST -> start latency ----------

/** Calls send(i) on schedule at `rate` per second for durationMs, never waiting for answers (open loop). */
async function openLoop(rate: number, durationMs: number, send: () => void): Promise<void> {
  const total = Math.round((rate * durationMs) / 1000);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (sent < due) {
      send();
      sent++;
    }
    await sleep(1);
  }
}

/** Collects start stamps a child reports, by job id. */
function collectStamps(child: Child): Map<string, number> {
  const stamps = new Map<string, number>();
  child.proc.on('message', (m: unknown) => {
    if (isStamps(m)) for (const [id, t] of m.stamps) stamps.set(id, t);
  });
  return stamps;
}

/** Waits until every sent id has a start stamp (or gives up after timeoutMs); returns the latencies. */
async function latencies(sent: Map<string, number>, stamps: Map<string, number>, what: string, timeoutMs = 15_000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  const missing = () => [...sent.keys()].filter((id) => !stamps.has(id)).length;
  while (missing() > 0 && Date.now() < until) await sleep(50);
  const lost = missing();
  if (lost > 0) log(`warning: ${what}: ${lost} of ${sent.size} jobs never reported a start`);
  return [...sent].flatMap(([id, t0]) => {
    const t1 = stamps.get(id);
    return t1 === undefined ? [] : [t1 - t0];
  });
}

async function startLatency(env: BenchEnv): Promise<Latencies> {
  log(`(b) baseline: Queue.add at ${RATE}/s -> bare worker`);
  const bp = env.prefix('b-bare');
  const bareWorker = await startBareWorker(bp, 'stamp', CONCURRENCY_DEFAULT);
  const bareStamps = collectStamps(bareWorker);
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const queue = new Queue('jobs', { connection, prefix: bp, skipVersionCheck: true });
  const bareSent = new Map<string, number>();
  const addOne = (measured: boolean) => () => {
    const id = randomUUID();
    const t0 = now();
    if (measured) bareSent.set(id, t0);
    queue.add('test_job', { tenantId: env.tenantId, type: 'test_job' }, taskOpts(id)).catch((err: Error) => log(`add failed: ${err.message}`));
  };
  await openLoop(RATE, LATENCY_WARMUP_MS, addOne(false));
  const bareCpu = watchCpu(env, { worker: bareWorker }, '(b) bare');
  await openLoop(RATE, DURATION_S * 1000, addOne(true));
  bareCpu();
  const baseline = await latencies(bareSent, bareStamps, 'bare');
  await queue.close();
  connection.disconnect();
  await teardown(env, bp, [bareWorker]);

  log(`(b) enrichd: POST at ${RATE}/s -> enrichd worker`);
  const p = env.prefix('b');
  const wprofile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const worker = spawnNode('enrichd worker (stamping)', [...wprofile, '--import', 'tsx', `${process.cwd()}/bench/lib/enrichd-worker.ts`], {
    env: env.enrichdEnv(p, { MAX_CONCURRENT_JOBS: String(CONCURRENCY_DEFAULT), BENCH_DIST: env.build.dist, ...(process.env.BENCH_DEBUG ? { BENCH_DEBUG: '1' } : {}) }),
    ipc: true,
  });
  await worker.message(isReady);
  const stamps = collectStamps(worker);
  const { api, port } = await startApi(env, p);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const sent = new Map<string, number>();
  const answered: number[] = [];
  let failures = 0;
  const post = (measured: boolean) => () => {
    const t0 = now();
    const req = request(
      { agent, host: '127.0.0.1', port, method: 'POST', path: '/v1/enrichment/jobs', headers: { authorization: `Bearer ${env.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 202) {
            failures++;
            return;
          }
          const { id } = JSON.parse(Buffer.concat(chunks).toString()) as { id: string };
          if (measured) {
            sent.set(id, t0);
            answered.push(now() - t0);
          }
        });
      },
    );
    req.on('error', () => failures++);
    req.end(BODY);
  };
  await openLoop(RATE, LATENCY_WARMUP_MS, post(false));
  const expected = RATE * DURATION_S;
  const cpu = watchCpu(env, { api, worker }, '(b) enrichd');
  await openLoop(RATE, DURATION_S * 1000, post(true));
  cpu();
  const until = Date.now() + 15_000;
  while (sent.size + failures < expected && Date.now() < until) await sleep(20);
  if (failures > 0 || sent.size < expected) log(`warning: ${failures} failed and ${expected - sent.size - failures} unanswered POSTs`);
  const value = await latencies(sent, stamps, 'enrichd');
  if (process.env.BENCH_DEBUG) {
    worker.proc.send('trace');
    const { trace } = await worker.message((m: unknown): m is { kind: 'trace'; trace: [string, [number, number]][] } => typeof m === 'object' && m !== null && (m as { kind?: string }).kind === 'trace');
    const seg: Record<string, number[]> = { 'send->insert': [], 'insert->start': [], 'start->handler': [] };
    for (const [id, [created, started]] of trace) {
      const t0 = sent.get(id);
      const t1 = stamps.get(id);
      if (t0 === undefined || t1 === undefined) continue;
      seg['send->insert']!.push(created - t0);
      seg['insert->start']!.push(started - created);
      seg['start->handler']!.push(t1 - started);
    }
    const first = Math.min(...sent.values());
    const split = (id: string, t0: number): string => {
      const tr = trace.find(([tid]) => tid === id)?.[1];
      const t1 = stamps.get(id)!;
      return tr ? `(${(tr[0] - t0).toFixed(0)}/${(tr[1] - tr[0]).toFixed(0)}/${(t1 - tr[1]).toFixed(0)})` : '';
    };
    const slow = [...sent].flatMap(([id, t0]) => (stamps.has(id) ? [[t0 - first, stamps.get(id)! - t0, split(id, t0)] as const] : [])).sort((a, b) => b[1] - a[1]).slice(0, 40);
    log(`slowest (sent at ms: latency (send->insert/insert->start/start->handler)): ${slow.sort((a, b) => a[0] - b[0]).map(([at, l, sp]) => `${at.toFixed(0)}:${l.toFixed(0)}${sp}`).join(' ')}`);
    for (const [k, v] of Object.entries(seg)) log(`${k}: p50 ${percentile(v, 50).toFixed(2)} p95 ${percentile(v, 95).toFixed(2)} p99 ${percentile(v, 99).toFixed(2)} ms`);
  }
  agent.destroy();
  await teardown(env, p, [api, worker]);
  log(`(b) p99 ${percentile(value, 99).toFixed(2)} vs ${percentile(baseline, 99).toFixed(2)} ms; POST answered p50 ${percentile(answered, 50).toFixed(2)} p99 ${percentile(answered, 99).toFixed(2)} ms`);
  return { value, baseline };
}

// ---------- (c) completion rate ----------

async function completionRate(env: BenchEnv): Promise<Pair> {
  log(`(c) baseline: ${JOBS} bare tasks -> bare worker`);
  const bp = env.prefix('c-bare');
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const queue = new Queue('jobs', { connection, prefix: bp, skipVersionCheck: true });
  for (let i = 0; i < JOBS; i += 1000) {
    const n = Math.min(1000, JOBS - i);
    await queue.addBulk(Array.from({ length: n }, () => ({ name: 'test_job', data: { tenantId: env.tenantId, type: 'test_job' }, opts: taskOpts(randomUUID()) })));
  }
  await queue.close();
  connection.disconnect();
  const bareWorker = await startBareWorker(bp, 'count', CONCURRENCY_C, JOBS);
  const bareCpu = watchCpu(env, { worker: bareWorker }, '(c) bare');
  const span = await bareWorker.message(isSpan, 300_000);
  bareCpu();
  const baseline = (span.count * 1000) / (span.last - span.first);
  await teardown(env, bp, [bareWorker]);

  log(`(c) enrichd: ${JOBS} submitted test_jobs -> enrichd worker`);
  const p = env.prefix('c');
  await presubmit(env, p);
  // The backlog is part of the system the worker starts on: let the statistics know it.
  await env.query('ANALYZE enrichment_jobs, enrichment_job_events');
  const worker = await startWorker(env, p, CONCURRENCY_C);
  const cpu = watchCpu(env, { worker }, '(c) enrichd');
  const until = Date.now() + 300_000;
  for (;;) {
    const [row] = await env.query<{ n: number }>("SELECT count(*)::int AS n FROM enrichment_jobs WHERE tenant_id = $1::uuid AND status = 'completed'", [env.tenantId]);
    if ((row?.n ?? 0) >= JOBS) break;
    if (!worker.alive) throw new Error(`enrichd worker exited\n${worker.tail}`);
    if (Date.now() > until) throw new Error(`only ${row?.n ?? 0} of ${JOBS} jobs completed in 300 s`);
    await sleep(250);
  }
  cpu();
  // Both sides: first attempt start to last completion, so process start-up is not counted.
  const [spanRow] = await env.query<{ ms: number; n: number }>(
    "SELECT extract(epoch FROM max(completed_at) - min(started_at)) * 1000 AS ms, count(*)::int AS n FROM enrichment_jobs WHERE tenant_id = $1::uuid AND status = 'completed'",
    [env.tenantId],
  );
  const value = (spanRow!.n * 1000) / Number(spanRow!.ms);
  await teardown(env, p, [worker]);
  log(`(c) ${value.toFixed(0)} vs ${baseline.toFixed(0)} jobs/s`);
  return { value, baseline };
}

/** Records and queues JOBS test_jobs through enrichd's own Submitter (batched insert + addBulk). */
async function presubmit(env: BenchEnv, prefix: string): Promise<void> {
  const config = loadConfig(env.enrichdEnv(prefix), {});
  const services = openServices(config, pino({ level: 'error' }));
  try {
    if (services.redis.status !== 'ready') await once(services.redis, 'ready');
    // A running system's leader has already stamped the Redis epoch; without it the worker's
    // first leader tick would treat every queued job as possibly lost and check them all.
    await services.redis.set(`${prefix}:epoch`, randomUUID(), 'NX');
    const job = () => ({
      id: randomUUID(),
      type: 'test_job',
      status: 'pending' as const,
      priority: 3,
      payload: {},
      tags: [],
      maxAttempts: 3,
      timeoutMs: 60_000,
      webhookUrl: null,
      runAt: null,
      idempotencyKey: null,
      requestHash: null,
    });
    for (let i = 0; i < JOBS; i += 2000) {
      await Promise.all(Array.from({ length: Math.min(2000, JOBS - i) }, () => services.submitter.submit(env.tenantId, job())));
    }
  } finally {
    await services.close();
  }
}
