// Spawning the bench build's `enrichd api` and `enrichd worker` processes and waiting until they
// are up, as bench/dispatch.ts does, plus per-process CPU accounting for a measurement.
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMeter, formatCores } from './cpu.js';
import type { BenchEnv } from './env.js';
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
