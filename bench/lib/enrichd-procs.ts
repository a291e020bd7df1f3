// Spawning the bench build's `enrichd api` and `enrichd worker` processes and waiting until they
// are up, as bench/dispatch.ts does, plus per-process CPU accounting for a measurement.
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMeter, formatCores } from './cpu.js';
import type { BenchEnv } from './env.js';
import { childrenOf } from './procfs.js';
import { type Child, freePort, spawnNode, waitForHttp } from './proc.js';

/** Starts `enrichd api` on a free port and waits until /ready answers 200. */
export async function startApi(env: BenchEnv, prefix: string, extra: Record<string, string> = {}, name = 'enrichd api'): Promise<{ api: Child; port: number }> {
  const port = await freePort();
  const api = spawnNode(name, [env.build.bin, 'api'], { env: env.enrichdEnv(prefix, { ...extra, PORT: String(port) }) });
  await waitForHttp(`http://127.0.0.1:${port}/ready`, api);
  return { api, port };
}

/**
 * Starts `enrichd worker` (WORKER_COUNT=1: the worker runs in this very process) and waits until
 * it has registered in enrichment_workers under its pid; with `logged`, also until it has logged
 * "worker started" (its BullMQ worker exists; needs LOG_LEVEL=info in extra).
 */
export async function startWorker(env: BenchEnv, prefix: string, extra: Record<string, string> = {}, name = 'enrichd worker', logged = false): Promise<Child> {
  const worker = spawnNode(name, [env.build.bin, 'worker'], { env: env.enrichdEnv(prefix, { WORKER_COUNT: '1', ...extra }) });
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (!worker.alive) throw new Error(`${name} exited early\n${worker.tail}`);
    const rows = await env.query<{ n: number }>('SELECT count(*)::int AS n FROM enrichment_workers WHERE pid = $1 AND stopped_at IS NULL', [worker.proc.pid]);
    if ((rows[0]?.n ?? 0) > 0 && (!logged || worker.tail.includes('worker started'))) return worker;
    await sleep(50);
  }
  throw new Error(`${name} did not start within 30 s\n${worker.tail}`);
}

/**
 * Two worker processes for a list job: one `enrichd worker` with WORKER_COUNT=2 (as deployed),
 * or, with BENCH_PROFILE_DIR, two single workers under --cpu-prof (the flag cannot pass through
 * NODE_OPTIONS to WORKER_COUNT's children). Waits until both run and have had 2 s to start
 * polling; returns the children to stop and the pids that do the work.
 */
export async function startTwoWorkers(env: BenchEnv, prefix: string, extra: Record<string, string>): Promise<{ workers: Child[]; workerPids: number[] }> {
  const profileDir = process.env.BENCH_PROFILE_DIR;
  if (profileDir) {
    const workers = [0, 1].map((i) => spawnNode(`enrichd worker ${i}`, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, env.build.bin, 'worker'], { env: env.enrichdEnv(prefix, { ...extra, WORKER_COUNT: '1' }) }));
    await sleep(2000);
    return { workers, workerPids: workers.map((w) => w.proc.pid!) };
  }
  const parent = spawnNode('enrichd worker', [env.build.bin, 'worker'], { env: env.enrichdEnv(prefix, { ...extra, WORKER_COUNT: '2' }) });
  let workerPids: number[] = [];
  const deadline = Date.now() + 30_000;
  while (workerPids.length < 2 && Date.now() < deadline) {
    await sleep(200);
    workerPids = childrenOf(parent.proc.pid!);
  }
  if (workerPids.length < 2) throw new Error(`WORKER_COUNT=2 started ${workerPids.length} worker processes\n${parent.tail}`);
  await sleep(2000); // both registered and polling
  return { workers: [parent], workerPids };
}

/** The child whose pid is in an enrichd worker id (`host:pid:random`). */
export function childOfWorkerId(children: Child[], workerId: string | null): Child | undefined {
  if (!workerId) return undefined;
  return children.find((c) => workerId.includes(`:${c.proc.pid}:`));
}

/**
 * Counts CPU per group (the bench, each named child, this database's PostgreSQL backends,
 * Redis) until the returned function is called, which returns the line to log.
 */
export function watchCpu(env: BenchEnv, children: Record<string, Child>): () => string {
  const names = new Map(Object.entries(children).map(([name, c]) => [c.proc.pid, name]));
  const stop = cpuMeter((pid, cmd) => {
    if (pid === process.pid) return 'bench';
    const name = names.get(pid);
    if (name) return name;
    if (cmd.startsWith('postgres:') && cmd.includes(env.databaseName)) return 'postgres';
    if (cmd.startsWith('redis-server')) return 'redis';
    return undefined;
  });
  return () => formatCores(stop());
}
