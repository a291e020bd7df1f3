// A real Celery 5 worker (Debian's python3-celery, run with the system Python) serving
// examples/celery/enrichd_tasks.py on a queue of its own, for tests and the Celery bench.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { buildCeleryMessage, queueListKeys } from '../../src/celery/message.js';

export const SYSTEM_PYTHON = '/usr/bin/python3';
export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/celery/', import.meta.url));

export interface CeleryWorkerOptions {
  /** the broker and result backend, e.g. redis://127.0.0.1:6379/11 (a database index of the caller's own) */
  brokerUrl: string;
  /** default: a fresh name, so runs never share a queue */
  queue?: string;
  concurrency?: number;
  pool?: 'threads' | 'prefork';
}

export interface CeleryWorker {
  brokerUrl: string;
  queue: string;
  /** a command connection to the broker's database, for the caller's checks */
  redis: Redis;
  /** stops the worker (SIGTERM, SIGKILL after 5 s) and deletes the keys the run made */
  stop(): Promise<void>;
  output(): string;
}

/** The celery command line that serves a queue, as the README shows it. */
export function celeryWorkerArgs(queue: string, concurrency: number, pool: 'threads' | 'prefork'): string[] {
  return [
    '-m', 'celery', '-A', 'enrichd_tasks', 'worker', '-Q', queue, `--pool=${pool}`, '-c', String(concurrency),
    '--without-heartbeat', '--without-gossip', '--without-mingle', '-l', 'WARNING', '-n', `${queue}@%h`,
  ];
}

/** Starts a worker and waits until it has run a task (so it also hears revoke broadcasts). */
export async function startCeleryWorker(opts: CeleryWorkerOptions): Promise<CeleryWorker> {
  const queue = opts.queue ?? `enrichd-test-${randomBytes(4).toString('hex')}`;
  const proc: ChildProcess = spawn(SYSTEM_PYTHON, celeryWorkerArgs(queue, opts.concurrency ?? 4, opts.pool ?? 'prefork'), {
    cwd: EXAMPLES_DIR,
    env: { ...process.env, PYTHONPATH: EXAMPLES_DIR, CELERY_BROKER_URL: opts.brokerUrl, CELERY_RESULT_BACKEND: opts.brokerUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
  proc.stderr?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  const redis = new Redis(opts.brokerUrl, { maxRetriesPerRequest: 1 });

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    process.removeListener('exit', killOnExit);
    await deleteRunKeys(redis, queue).catch(() => undefined);
    redis.disconnect();
  };

  // A ping through the real path: a message built by enrichd's builder, answered by the worker.
  const pingId = `ping-${randomBytes(6).toString('hex')}`;
  const ping = buildCeleryMessage({ task: 'enrichd_tasks.add', args: [1, 1], kwargs: {}, queue }, { taskId: pingId, priority: 1, allowedTasks: ['enrichd_tasks.*'], origin: 'test' });
  await redis.lpush(ping.listKey, ping.raw);
  const deadline = Date.now() + 30_000;
  while ((await redis.exists(`celery-task-meta-${pingId}`)) === 0) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the Celery worker did not start\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await redis.del(`celery-task-meta-${pingId}`);
  return { brokerUrl: opts.brokerUrl, queue, redis, stop, output: () => out };
}

/**
 * Deletes what a run left in its database: the queue's lists and binding, result keys of
 * enrichd's tasks, the example module's marks, and kombu's bookkeeping (the database is the caller's alone).
 */
async function deleteRunKeys(redis: Redis, queue: string): Promise<void> {
  const keys = new Set<string>([...queueListKeys(queue), `_kombu.binding.${queue}`, 'unacked', 'unacked_index', 'unacked_mutex']);
  for (const pattern of ['celery-task-meta-*', 'enrichd-example:*', '_kombu.binding.*', `${queue}*`]) {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const k of found) keys.add(k);
    } while (cursor !== '0');
  }
  const all = [...keys];
  for (let i = 0; i < all.length; i += 500) await redis.del(...all.slice(i, i + 500));
}
