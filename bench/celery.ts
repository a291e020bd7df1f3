// Celery tasks through enrichd (HTTP submit to `completed` recorded in PostgreSQL) against the
// same tasks driven from Python directly (apply_async, then every result), in the same run,
// on the same real Celery worker (prefork, 4 processes) and broker.
import { execFile } from 'node:child_process';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { EXAMPLES_DIR, SYSTEM_PYTHON, startCeleryWorker } from '../test/helpers/celery-worker.js';
import { startApi, startWorker } from './lib/enrichd-procs.js';
import { REDIS_URL, openBenchEnv } from './lib/env.js';
import { type Child, ROOT } from './lib/proc.js';
import { type BenchModule, type Figure, percentile } from './lib/report.js';
import { sampleCpu, stealBetween } from './lib/steal.js';
import { cpuMeter, formatCores } from './lib/cpu.js';

const TASKS = 2000;
const SUBMITTERS = 256;
const TARGET_RATIO = 0.8;
const ROUNDS = 3;
// A database of the bench's own (the integration tests use 11).
const BROKER_URL = `${REDIS_URL}/12`;

interface Run {
  perSecond: number;
  latencies: number[];
}

/** "CPU ms per task: celery 1.10, postgres 0.40, ..." (the driver's own CPU is not seen: it has exited). */
function cpuPerTask(cores: Record<string, number>, run: Run): string {
  const seconds = TASKS / run.perSecond;
  const perTask = Object.entries(cores).filter(([, c]) => c >= 0.01).sort((a, b) => b[1] - a[1]);
  return `CPU ms per task: ${perTask.map(([g, c]) => `${g} ${((c * seconds * 1000) / TASKS).toFixed(2)}`).join(', ')} (cores: ${formatCores(cores)})`;
}

async function viaPython(queue: string): Promise<Run> {
  const { stdout } = await promisify(execFile)(SYSTEM_PYTHON, [`${ROOT}bench/celery_driver.py`, String(TASKS), queue], {
    env: { ...process.env, PYTHONPATH: EXAMPLES_DIR, CELERY_BROKER_URL: BROKER_URL, CELERY_RESULT_BACKEND: BROKER_URL },
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; latencies_ms: number[] };
  return { perSecond: TASKS / out.seconds, latencies: out.latencies_ms };
}

/** POSTs one JSON body over a keep-alive agent; resolves with the status and body. */
function post(agent: Agent, port: number, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, method: 'POST', path: '/v1/enrichment/jobs', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function viaEnrichd(port: number, token: string, queue: string, query: <R extends object>(sql: string, p?: unknown[]) => Promise<R[]>): Promise<Run> {
  // node:http with a keep-alive agent (as bench/dispatch.ts): the client shares the 2 cores, and
  // fetch (undici) costs it several times more CPU per request than enrichd's API spends.
  const agent = new Agent({ keepAlive: true, maxSockets: SUBMITTERS });
  const started = Date.now();
  let next = 0;
  const ids: string[] = [];
  await Promise.all(Array.from({ length: SUBMITTERS }, async () => {
    while (next < TASKS) {
      const n = next++;
      const res = await post(agent, port, token, JSON.stringify({ type: 'celery_task', payload: { task: 'enrichd_tasks.add', args: [n, n], queue } }));
      if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${res.text}`);
      ids.push((JSON.parse(res.text) as { id: string }).id);
    }
  }));
  agent.destroy();
  const submitted = Date.now();
  for (;;) {
    const [row] = await query<{ done: number; failed: number }>(
      "SELECT count(*) FILTER (WHERE status = 'completed')::int AS done, count(*) FILTER (WHERE status IN ('failed', 'cancelled'))::int AS failed FROM enrichment_jobs WHERE id = ANY($1::uuid[])", [ids]);
    if (row!.failed > 0) throw new Error(`${row!.failed} celery jobs did not complete`);
    if (row!.done === TASKS) break;
    if (Date.now() - started > 300_000) throw new Error(`only ${row!.done} of ${TASKS} celery jobs completed in 300 s`);
    // The figures come from completed_at, not from when this poll sees it: a slow poll costs
    // PostgreSQL less CPU (it looks 2,000 ids up) and changes no figure.
    await sleep(250);
  }
  const rows = await query<{ ms: number; last: Date; sent: Date }>('SELECT extract(epoch FROM completed_at - created_at) * 1000 AS ms, completed_at AS last, started_at AS sent FROM enrichment_jobs WHERE id = ANY($1::uuid[])', [ids]);
  const last = Math.max(...rows.map((r) => r.last.getTime()));
  const lastSent = Math.max(...rows.map((r) => r.sent.getTime()));
  process.stderr.write(`celery via enrichd: submits took ${submitted - started} ms, the last was sent to Celery ${lastSent - started} ms and completed ${last - started} ms after the first submit\n`);
  return { perSecond: TASKS / ((last - started) / 1000), latencies: rows.map((r) => Number(r.ms)) };
}

export const bench: BenchModule = {
  name: 'celery',
  async run(): Promise<Figure[]> {
    const env = await openBenchEnv();
    const worker = await startCeleryWorker({ brokerUrl: BROKER_URL, concurrency: 4, pool: 'prefork' });
    const prefix = env.prefix('celery');
    // BENCH_NODE_OPTIONS: passed to the API and the enrichd worker (e.g. `--import <a profiler hook>`).
    const nodeOptions: Record<string, string> = process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {};
    const celeryEnv = { CELERY_BROKER_URL: BROKER_URL, CELERY_ALLOWED_TASKS: 'enrichd_tasks.*', ...nodeOptions };
    const started: Child[] = [];
    try {
      const { api, port } = await startApi(env, prefix, celeryEnv);
      started.push(api);
      const enrichdWorker = await startWorker(env, prefix, { ...celeryEnv, MAX_CONCURRENT_JOBS: '200' });
      started.push(enrichdWorker);
      // Warm both paths (imports, connections, prepared statements) before measuring.
      await viaEnrichd(port, env.token, worker.queue, env.query).catch(() => undefined);
      await viaPython(worker.queue);
      const cpu0 = sampleCpu();
      // BENCH_OTHER=1 names the other processes that took CPU (the host is shared) instead of lumping them.
      const classify = (pid: number, cmd: string): string | undefined =>
        pid === process.pid ? 'bench' : pid === api.proc.pid ? 'api' : pid === enrichdWorker.proc.pid ? 'worker' : cmd.includes('celery_driver') ? 'driver'
          : cmd.includes('celery') ? 'celery' : cmd.startsWith('postgres:') && cmd.includes(env.databaseName) ? 'postgres' : cmd.startsWith('redis-server') ? 'redis' : process.env.BENCH_OTHER ? `other:${cmd.slice(0, 40)}` : undefined;
      // The host is shared (other suites come and go): the two sides alternate ROUNDS times and
      // each is judged by its best round, the one least disturbed by others.
      const pythonRuns: Run[] = [];
      const enrichdRuns: Run[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        let stop = cpuMeter(classify);
        const python = await viaPython(worker.queue);
        process.stderr.write(`round ${round} celery via Python: ${python.perSecond.toFixed(0)} tasks/s; ${cpuPerTask(stop(), python)}\n`);
        stop = cpuMeter(classify);
        const enrichd = await viaEnrichd(port, env.token, worker.queue, env.query);
        process.stderr.write(`round ${round} celery via enrichd: ${enrichd.perSecond.toFixed(0)} tasks/s; ${cpuPerTask(stop(), enrichd)}\n`);
        pythonRuns.push(python);
        enrichdRuns.push(enrichd);
      }
      const best = (runs: Run[]) => runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
      const python = best(pythonRuns);
      const enrichd = best(enrichdRuns);
      const steal = stealBetween(cpu0, sampleCpu());
      const fig = (name: string, unit: string, value: number, baseline: number, target: string, pass: boolean | null): Figure => ({ name: `celery ${name}`, unit, value, baseline, target, pass, steal, tries: 1 });
      return [
        fig(`(a) throughput, ${TASKS} tasks, submit to completed`, 'tasks/s', enrichd.perSecond, python.perSecond, `>= ${TARGET_RATIO} x Python`, enrichd.perSecond >= TARGET_RATIO * python.perSecond),
        fig('(b) round trip p50', 'ms', percentile(enrichd.latencies, 50), percentile(python.latencies, 50), '-', null),
        fig('(b) round trip p99', 'ms', percentile(enrichd.latencies, 99), percentile(python.latencies, 99), '-', null),
      ];
    } finally {
      for (const c of started) c.proc.kill('SIGTERM');
      await Promise.all(started.map((c) => c.exit));
      await worker.stop();
      await env.close();
    }
  },
};
