// Operations benchmark (issue 4, point 15): live-event fan-out, webhook delivery, recovery of a
// SIGKILLed worker's job, and jobs/s with 1 and 2 worker processes. Every figure runs the bench
// build's real `enrichd api` / `enrichd worker` processes on a Redis prefix of its own, and the
// job tables are emptied between measurements. BENCH_OPS=sse,webhook,webhook-poll,recovery,scale
// (the default: all) picks some. SSE, webhook and recovery figures have no bare counterpart
// worth the name, so their baseline is n/a; scaling's baseline is the 1-worker run.
//
// Clocks: "completion" is the job's completed_at in PostgreSQL (now() of the transaction that
// completed it, on this machine's clock), so receipts and kills are stamped with Date.now(), the
// same wall clock (1 ms resolution; the targets are 100 ms and more).
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { QUEUE_NAME } from '../src/queue/queue.js';
import { openServices } from '../src/runtime/services.js';
import { childOfWorkerId, startApi, startWorker, watchCpu } from './lib/enrichd-procs.js';
import { type BenchEnv, REDIS_URL, deleteKeys, openBenchEnv } from './lib/env.js';
import { type Child, stopAll } from './lib/proc.js';
import { type BenchModule, type Figure, percentile } from './lib/report.js';
import { type SseClient, connectSse } from './lib/sse.js';
import { type Measured, withStealRetry } from './lib/steal.js';
import { startReceiver } from './lib/webhook-receiver.js';

// ---- SSE fan-out ----
const SSE_CLIENTS = 100;
// A deployment runs several API instances behind a load balancer, and any of them serves any
// tenant's events (they all read the tenant's Redis stream): the clients are spread over 2.
const SSE_APIS = 2;
const SSE_WARMUP_JOBS = 5;
const SSE_JOBS = 50;
const SSE_P99_TARGET_MS = 100;

// ---- webhooks ----
const WEBHOOK_JOBS = 200;
const WEBHOOK_WARMUP_JOBS = 10;
// Jobs submitted per second, open loop (a steady trickle, not a burst).
const WEBHOOK_RATE = 10;
const WEBHOOK_P99_TARGET_MS = 500;
// The delivery loop looks for due deliveries every POLL_INTERVAL (default 1000 ms): the figure
// runs the default; 'webhook-poll' measures the same at this interval, informational, to show
// how much of the latency is that wait.
const WEBHOOK_FAST_POLL_MS = 100;

// ---- recovery ----
const STALLED_INTERVAL_MS = 1000;
const RECOVERY_ROUNDS = 5;
// Long enough to be running when its worker is killed, and after it is taken over.
const RECOVERY_SLEEP_MS = 15_000;

// ---- scaling ----
// Each test_job waits SCALE_SLEEP_MS (payload {sleepMs}), the shape of a provider lookup: the
// worker waits on I/O, not the CPU. Two cores are shared by PostgreSQL, Redis, the workers and the
// bench, so CPU-bound no-op jobs cannot scale with processes; jobs that wait measure whether
// coordination through PostgreSQL and Redis serialises the workers. Ideal: 1000 / SCALE_SLEEP_MS *
// SCALE_CONCURRENCY jobs/s per worker (200), so two workers ask for about 400 jobs/s, well under
// what one worker completes on no-op jobs (dispatch (c)).
const SCALE_SLEEP_MS = 100;
const SCALE_CONCURRENCY = 20;
const SCALE_JOBS = 2400;
const SCALE_RATIO_TARGET = 1.3;

const log = (line: string) => process.stderr.write(`  ${line}\n`);
const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');
const dist = (v: number[]) => `p50 ${fmt(percentile(v, 50))} p95 ${fmt(percentile(v, 95))} p99 ${fmt(percentile(v, 99))} max ${fmt(Math.max(...v))} ms (n=${v.length})`;

export const bench: BenchModule = {
  name: 'operations',
  async run() {
    // BENCH_OPS=sse,recovery runs only those (for working on one figure; the full run needs all).
    const only = new Set((process.env.BENCH_OPS ?? 'sse,webhook,webhook-poll,recovery,scale').split(',').map((f) => f.trim()));
    const env = await openBenchEnv();
    try {
      const figures: Figure[] = [];
      // A run over 5% steal is run once more (not three times: the module stays within ~3 min).
      if (only.has('sse')) figures.push(...sseFigures(await withStealRetry(() => sseFanout(env), 0.05, 2)));
      if (only.has('webhook')) figures.push(...webhookFigures(await withStealRetry(() => webhookDelivery(env), 0.05, 2)));
      if (only.has('webhook-poll')) figures.push(webhookPollFigure(await withStealRetry(() => webhookDelivery(env, WEBHOOK_FAST_POLL_MS), 0.05, 2)));
      if (only.has('recovery')) figures.push(...recoveryFigures(await withStealRetry(() => recovery(env), 0.05, 2)));
      if (only.has('scale')) figures.push(...scaleFigures(await withStealRetry(() => scaling(env), 0.05, 2)));
      return figures;
    } finally {
      await stopAll();
      await env.close();
    }
  },
};

// ---------- shared steps ----------

interface Api {
  api: Child;
  port: number;
}

/** Stops the children, deletes the prefix's keys and empties the job tables. */
async function teardown(env: BenchEnv, prefix: string, children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => c.stop()));
  await deleteKeys(`${prefix}:*`);
  await env.resetJobs();
}

/** POSTs a job through the API; returns its id. */
async function submit(port: number, token: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST /v1/enrichment/jobs answered ${res.status}: ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { id: string }).id;
}

/** completed_at (epoch ms, microsecond precision) of the given jobs. */
async function completedAt(env: BenchEnv, ids: string[]): Promise<Map<string, number>> {
  const rows = await env.query<{ id: string; t: number }>(
    'SELECT id::text AS id, extract(epoch FROM completed_at)::float8 * 1000 AS t FROM enrichment_jobs WHERE id = ANY($1::uuid[]) AND completed_at IS NOT NULL',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, Number(r.t)]));
}

/** Polls until check() returns a value, or throws after timeoutMs. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------- 1. SSE fan-out ----------

interface SseResult {
  latencies: number[];
  /** the same, split by which API instance served the client */
  byApi: number[][];
  /** completion -> XADD (the stream id's ms part is Redis's clock at the append) and XADD -> client */
  toRedis: number[];
  fromRedis: number[];
  lost: number;
}

function sseFigures(m: Measured<SseResult>): Figure[] {
  const v = m.value.latencies;
  const name = (p: number) => `(sse) completion -> ${SSE_CLIENTS} clients p${p} (${SSE_JOBS} jobs, ${SSE_APIS} APIs)`;
  return [
    { name: name(50), unit: 'ms', value: percentile(v, 50), baseline: Number.NaN, target: '-', pass: null, steal: m.steal, tries: m.tries },
    {
      name: name(99),
      unit: 'ms',
      value: percentile(v, 99),
      baseline: Number.NaN,
      target: `p99 < ${SSE_P99_TARGET_MS} ms`,
      // every client must get every event: a lost one fails the figure
      pass: percentile(v, 99) < SSE_P99_TARGET_MS && m.value.lost === 0,
      steal: m.steal,
      tries: m.tries,
    },
  ];
}

async function sseFanout(env: BenchEnv): Promise<SseResult> {
  log(`(sse) ${SSE_CLIENTS} clients on GET /v1/events over ${SSE_APIS} enrichd api processes, 1 enrichd worker, ${SSE_JOBS} jobs one at a time`);
  const p = env.prefix('sse');
  const worker = await startWorker(env, p);
  const apis: Api[] = [];
  for (let i = 0; i < SSE_APIS; i++) apis.push(await startApi(env, p, {}, `enrichd api ${i + 1}`));
  const clients: SseClient[] = [];
  // job id -> [receivedAt, api index, stream id ms] per client that got its job.completed
  const receipts = new Map<string, [number, number, number][]>();
  try {
    for (let i = 0; i < SSE_CLIENTS; i += 20) {
      const batch = Array.from({ length: Math.min(20, SSE_CLIENTS - i) }, (_, k) => {
        const apiIndex = (i + k) % SSE_APIS;
        return connectSse({
          port: apis[apiIndex]!.port,
          path: '/v1/events',
          token: env.token,
          onFrame: (f) => {
            if (f.event !== 'job.completed') return;
            const { job } = JSON.parse(f.data) as { job: { id: string } };
            const idMs = Number(f.id?.split('-')[0] ?? Number.NaN);
            let list = receipts.get(job.id);
            if (!list) receipts.set(job.id, (list = []));
            list.push([f.receivedAt, apiIndex, idMs]);
          },
        });
      });
      clients.push(...(await Promise.all(batch)));
    }
    const everyone = async (id: string) => waitFor(`${SSE_CLIENTS} clients to get job.completed of ${id}`, () => ((receipts.get(id)?.length ?? 0) >= SSE_CLIENTS ? true : undefined), 10_000, 5).catch(() => false);
    let lost = 0;
    for (let i = 0; i < SSE_WARMUP_JOBS; i++) await everyone(await submit(apis[0]!.port, env.token, { type: 'test_job', payload: {} }));
    const ids: string[] = [];
    const cpu = watchCpu(env, Object.fromEntries([['worker', worker], ...apis.map((a, i) => [`api${i + 1}`, a.api] as const)]));
    for (let i = 0; i < SSE_JOBS; i++) {
      const id = await submit(apis[i % SSE_APIS]!.port, env.token, { type: 'test_job', payload: {} });
      ids.push(id);
      if (!(await everyone(id))) lost += SSE_CLIENTS - (receipts.get(id)?.length ?? 0);
      // let the stream go quiet between jobs: each job's fan-out is measured on its own
      await sleep(20);
    }
    log(`(sse) cpu (cores): ${cpu()}`);
    const done = await completedAt(env, ids);
    const result: SseResult = { latencies: [], byApi: apis.map(() => []), toRedis: [], fromRedis: [], lost };
    for (const id of ids) {
      const t0 = done.get(id);
      if (t0 === undefined) throw new Error(`job ${id} has no completed_at`);
      for (const [at, apiIndex, idMs] of receipts.get(id) ?? []) {
        result.latencies.push(at - t0);
        result.byApi[apiIndex]!.push(at - t0);
        result.toRedis.push(idMs - t0);
        result.fromRedis.push(at - idMs);
      }
    }
    log(`(sse) completion -> client: ${dist(result.latencies)}; lost ${lost}`);
    result.byApi.forEach((v, i) => log(`(sse)   clients of api ${i + 1}: ${dist(v)}`));
    log(`(sse)   completion -> XADD (Redis clock): ${dist(result.toRedis)}`);
    log(`(sse)   XADD -> client: ${dist(result.fromRedis)}`);
    return result;
  } finally {
    for (const c of clients) c.close();
    await teardown(env, p, [...apis.map((a) => a.api), worker]);
  }
}

// ---------- 2. webhook delivery ----------

interface WebhookResult {
  latencies: number[];
  /** completion -> the delivery loop starting the first attempt (webhook_delivery_attempts.at) */
  toSend: number[];
  /** first attempt start -> the receiver has the body */
  sendToReceipt: number[];
  lost: number;
  pollIntervalMs: number;
}

function webhookFigures(m: Measured<WebhookResult>): Figure[] {
  const v = m.value.latencies;
  const name = (what: string) => `(webhook) ${what} (${WEBHOOK_JOBS} jobs @ ${WEBHOOK_RATE}/s, POLL_INTERVAL ${m.value.pollIntervalMs})`;
  const row = (what: string, value: number, target: string, pass: boolean | null): Figure => ({ name: name(what), unit: 'ms', value, baseline: Number.NaN, target, pass, steal: m.steal, tries: m.tries });
  return [
    row('completion -> receiver p50', percentile(v, 50), '-', null),
    row('completion -> receiver p99', percentile(v, 99), `p99 < ${WEBHOOK_P99_TARGET_MS} ms`, percentile(v, 99) < WEBHOOK_P99_TARGET_MS && m.value.lost === 0),
    row('of which completion -> send p99', percentile(m.value.toSend, 99), '-', null),
  ];
}

/** The same measurement at a shorter POLL_INTERVAL: informational, no target. */
function webhookPollFigure(m: Measured<WebhookResult>): Figure {
  return {
    name: `(webhook) completion -> receiver p99 at POLL_INTERVAL ${m.value.pollIntervalMs} (info)`,
    unit: 'ms',
    value: percentile(m.value.latencies, 99),
    baseline: Number.NaN,
    target: '-',
    pass: null,
    steal: m.steal,
    tries: m.tries,
  };
}

/** Jobs with a webhookUrl on the loopback receiver; POLL_INTERVAL is the default unless given. */
async function webhookDelivery(env: BenchEnv, pollInterval?: number): Promise<WebhookResult> {
  const p = env.prefix('webhook');
  const extra: Record<string, string> = { WEBHOOK_ALLOW_PRIVATE: 'true', ...(pollInterval === undefined ? {} : { POLL_INTERVAL: String(pollInterval) }) };
  const pollIntervalMs = loadConfig(env.enrichdEnv(p, extra), {}).pollIntervalMs;
  log(`(webhook) job webhookUrl -> loopback receiver; enrichd api + enrichd worker with WEBHOOK_ALLOW_PRIVATE=true, POLL_INTERVAL ${pollInterval === undefined ? 'default ' : ''}${pollIntervalMs} ms`);
  const received = new Map<string, number>();
  let duplicates = 0;
  const receiver = await startReceiver((d) => {
    if (d.type !== 'job.completed') return;
    if (received.has(d.jobId)) duplicates++;
    else received.set(d.jobId, d.receivedAt);
  });
  const worker = await startWorker(env, p, extra);
  const { api, port } = await startApi(env, p, extra);
  try {
    const body = { type: 'test_job', payload: {}, webhookUrl: receiver.url };
    const trickle = async (n: number): Promise<string[]> => {
      const started = Date.now();
      const posts: Promise<string>[] = [];
      for (let i = 0; i < n; i++) {
        const due = started + (i * 1000) / WEBHOOK_RATE;
        if (due > Date.now()) await sleep(due - Date.now());
        posts.push(submit(port, env.token, body));
      }
      return Promise.all(posts);
    };
    const allReceived = (ids: string[], timeoutMs: number) =>
      waitFor('every delivery', () => (ids.every((id) => received.has(id)) ? true : undefined), timeoutMs, 20).catch(() => false);
    await allReceived(await trickle(WEBHOOK_WARMUP_JOBS), 15_000);
    const cpu = watchCpu(env, { worker, api });
    const ids = await trickle(WEBHOOK_JOBS);
    await allReceived(ids, 30_000);
    log(`(webhook) cpu (cores): ${cpu()}`);
    const done = await completedAt(env, ids);
    const sends = new Map(
      (
        await env.query<{ id: string; t: number }>(
          `SELECT d.job_id::text AS id, extract(epoch FROM min(a.at))::float8 * 1000 AS t
           FROM webhook_deliveries d JOIN webhook_delivery_attempts a ON a.delivery_id = d.id
           WHERE d.job_id = ANY($1::uuid[]) AND d.event_type = 'job.completed' GROUP BY d.job_id`,
          [ids],
        )
      ).map((r) => [r.id, Number(r.t)]),
    );
    const result: WebhookResult = { latencies: [], toSend: [], sendToReceipt: [], lost: 0, pollIntervalMs };
    for (const id of ids) {
      const t0 = done.get(id);
      const t2 = received.get(id);
      if (t0 === undefined || t2 === undefined) {
        result.lost++;
        continue;
      }
      result.latencies.push(t2 - t0);
      const t1 = sends.get(id);
      if (t1 !== undefined) {
        result.toSend.push(t1 - t0);
        result.sendToReceipt.push(t2 - t1);
      }
    }
    log(`(webhook) completion -> receiver: ${dist(result.latencies)}; lost ${result.lost}, duplicates ${duplicates}`);
    log(`(webhook)   completion -> first attempt starts: ${dist(result.toSend)}`);
    log(`(webhook)   attempt start -> receiver has the body: ${dist(result.sendToReceipt)}`);
    return result;
  } finally {
    await receiver.close();
    await teardown(env, p, [api, worker]);
  }
}

// ---------- 3. recovery of a SIGKILLed worker's job ----------

interface RecoveryResult {
  /** kill -> the job's next attempt starting on the other worker (its event's `at`), per round */
  takeovers: number[];
}

function recoveryFigures(m: Measured<RecoveryResult>): Figure[] {
  const v = m.value.takeovers;
  const limit = 2 * STALLED_INTERVAL_MS;
  const name = (what: string) => `(recovery) SIGKILL -> restart on other worker ${what} (${v.length} kills, STALLED_INTERVAL ${STALLED_INTERVAL_MS})`;
  return [
    { name: name('p50'), unit: 'ms', value: percentile(v, 50), baseline: Number.NaN, target: '-', pass: null, steal: m.steal, tries: m.tries },
    { name: name('max'), unit: 'ms', value: Math.max(...v), baseline: Number.NaN, target: `max < ${limit} ms`, pass: v.length === RECOVERY_ROUNDS && Math.max(...v) < limit, steal: m.steal, tries: m.tries },
  ];
}

async function recovery(env: BenchEnv): Promise<RecoveryResult> {
  log(`(recovery) 2 enrichd workers, STALLED_INTERVAL=${STALLED_INTERVAL_MS}; a test_job {sleepMs: ${RECOVERY_SLEEP_MS}} on one, SIGKILL it, ${RECOVERY_ROUNDS} rounds`);
  const p = env.prefix('recovery');
  const extra = { STALLED_INTERVAL: String(STALLED_INTERVAL_MS), GRACEFUL_SHUTDOWN_TIMEOUT: '1000' };
  // info logs: "worker started" says a worker's BullMQ consumer exists (and so its stall checker)
  const workerExtra = { ...extra, LOG_LEVEL: 'info' };
  let n = 0;
  const newWorker = () => startWorker(env, p, workerExtra, `enrichd worker ${String.fromCharCode(65 + n++)}`, true);
  const { api, port } = await startApi(env, p, extra);
  const workers: Child[] = [await newWorker(), await newWorker()];
  const killed: Child[] = [];
  const takeovers: number[] = [];
  try {
    for (let round = 1; round <= RECOVERY_ROUNDS; round++) {
      const id = await submit(port, env.token, { type: 'test_job', payload: { sleepMs: RECOVERY_SLEEP_MS } });
      const first = await waitFor(
        `job ${id} running`,
        async () => (await env.query<{ worker_id: string }>("SELECT worker_id FROM enrichment_jobs WHERE id = $1::uuid AND status = 'running' AND worker_id IS NOT NULL", [id]))[0],
        15_000,
      );
      const holder = childOfWorkerId(workers, first.worker_id);
      if (!holder) throw new Error(`job ${id} runs on ${first.worker_id}, none of the bench's workers`);
      const survivor = workers.find((w) => w !== holder)!;
      const killedAt = Date.now();
      holder.proc.kill('SIGKILL');
      const next = await waitFor(
        `job ${id} to start again after the kill`,
        async () =>
          (
            await env.query<{ at: number; worker_id: string; attempt: number }>(
              `SELECT extract(epoch FROM at)::float8 * 1000 AS at, worker_id, attempt FROM enrichment_job_events
               WHERE job_id = $1::uuid AND to_status = 'running' AND worker_id IS DISTINCT FROM $2 ORDER BY id LIMIT 1`,
              [id, first.worker_id],
            )
          )[0],
        10 * STALLED_INTERVAL_MS,
      );
      if (childOfWorkerId([survivor], next.worker_id) !== survivor) throw new Error(`job ${id} restarted on ${next.worker_id}, not the surviving worker`);
      const took = Number(next.at) - killedAt;
      takeovers.push(took);
      log(`(recovery) round ${round}: ${holder.name} killed, ${survivor.name} started attempt ${next.attempt} after ${took.toFixed(0)} ms`);
      // The job has done its part; cancelling it frees the survivor's slot.
      await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${env.token}` } }).then((r) => r.arrayBuffer());
      await holder.exit;
      killed.push(holder);
      // The replacement starts once the takeover is measured, so its start-up does not compete with it.
      workers.splice(workers.indexOf(holder), 1, await newWorker());
    }
    log(`(recovery) kill -> restart: ${dist(takeovers)}`);
    return { takeovers };
  } finally {
    await teardown(env, p, [api, ...workers]);
  }
}

// ---------- 4. scaling: 1 and 2 worker processes ----------

interface ScaleResult {
  one: number;
  two: number;
}

function scaleFigures(m: Measured<ScaleResult>): Figure[] {
  const { one, two } = m.value;
  return [{
    name: `(scale) jobs/s, 2 workers vs 1 (test_job sleepMs ${SCALE_SLEEP_MS}, conc ${SCALE_CONCURRENCY} each, ${SCALE_JOBS} jobs)`,
    unit: 'jobs/s',
    value: two,
    baseline: one,
    target: `ratio >= ${SCALE_RATIO_TARGET}`,
    pass: two / one >= SCALE_RATIO_TARGET,
    steal: m.steal,
    tries: m.tries,
  }];
}

async function scaling(env: BenchEnv): Promise<ScaleResult> {
  const one = await throughput(env, 1);
  const two = await throughput(env, 2);
  log(`(scale) ${two.toFixed(0)} vs ${one.toFixed(0)} jobs/s (ideal ${((1000 / SCALE_SLEEP_MS) * SCALE_CONCURRENCY).toFixed(0)} per worker)`);
  return { one, two };
}

/** Completed jobs/s of `workers` worker processes over a paused, pre-submitted backlog, first start to last completion. */
async function throughput(env: BenchEnv, workers: number): Promise<number> {
  log(`(scale) ${SCALE_JOBS} test_jobs {sleepMs: ${SCALE_SLEEP_MS}} -> ${workers} enrichd worker process(es), MAX_CONCURRENT_JOBS=${SCALE_CONCURRENCY}`);
  const p = env.prefix(`scale${workers}`);
  // The queue is paused while the backlog is recorded and the workers start, so every worker is
  // up when the first job starts and the span measures them all working.
  await presubmitPaused(env, p);
  await env.query('ANALYZE enrichment_jobs, enrichment_job_events');
  const children: Child[] = [];
  try {
    for (let i = 0; i < workers; i++) children.push(await startWorker(env, p, { MAX_CONCURRENT_JOBS: String(SCALE_CONCURRENCY) }, `enrichd worker ${i + 1}`));
    // Registration comes just before the BullMQ consumer is made: give it a moment to connect.
    await sleep(500);
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const queue = new Queue(QUEUE_NAME, { connection, prefix: p, skipVersionCheck: true });
    const cpu = watchCpu(env, Object.fromEntries(children.map((c, i) => [`worker${i + 1}`, c])));
    await queue.resume();
    await queue.close();
    connection.disconnect();
    await waitFor(
      `${SCALE_JOBS} completed jobs`,
      async () => {
        for (const c of children) if (!c.alive) throw new Error(`${c.name} exited\n${c.tail}`);
        const [row] = await env.query<{ n: number }>("SELECT count(*)::int AS n FROM enrichment_jobs WHERE tenant_id = $1::uuid AND status = 'completed'", [env.tenantId]);
        return (row?.n ?? 0) >= SCALE_JOBS ? true : undefined;
      },
      120_000,
      100,
    );
    log(`(scale) ${workers} worker(s) cpu (cores): ${cpu()}`);
    const [span] = await env.query<{ ms: number; n: number }>(
      "SELECT extract(epoch FROM max(completed_at) - min(started_at))::float8 * 1000 AS ms, count(*)::int AS n FROM enrichment_jobs WHERE tenant_id = $1::uuid AND status = 'completed'",
      [env.tenantId],
    );
    const rate = (span!.n * 1000) / Number(span!.ms);
    log(`(scale) ${workers} worker(s): ${span!.n} jobs in ${Number(span!.ms).toFixed(0)} ms = ${rate.toFixed(0)} jobs/s`);
    return rate;
  } finally {
    await teardown(env, p, children);
  }
}

/** Pauses the prefix's queue, then records and queues SCALE_JOBS test_jobs through enrichd's own Submitter. */
async function presubmitPaused(env: BenchEnv, prefix: string): Promise<void> {
  const config = loadConfig(env.enrichdEnv(prefix), {});
  const services = openServices(config, pino({ level: 'error' }));
  try {
    if (services.redis.status !== 'ready') await once(services.redis, 'ready');
    // A running system's leader has already stamped the Redis epoch (see dispatch.ts).
    await services.redis.set(`${prefix}:epoch`, randomUUID(), 'NX');
    await services.queue.pause();
    const job = () => ({
      id: randomUUID(),
      type: 'test_job',
      status: 'pending' as const,
      priority: 3,
      payload: { sleepMs: SCALE_SLEEP_MS },
      tags: [],
      maxAttempts: 3,
      timeoutMs: 60_000,
      webhookUrl: null,
      runAt: null,
      idempotencyKey: null,
      requestHash: null,
    });
    for (let i = 0; i < SCALE_JOBS; i += 1200) {
      await Promise.all(Array.from({ length: Math.min(1200, SCALE_JOBS - i) }, () => services.submitter.submit(env.tenantId, job())));
    }
  } finally {
    await services.close();
  }
}
