// Runs queued work inside the calling process for a bounded budget: the process endpoint of
// cron-driven deployments (no long-lived workers), one run at a time across every instance.
import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { QUEUE_NAME, type JobQueue, type TaskData } from './queue.js';
import { createRedis } from './redis.js';
import { TASK_SETTINGS, type WorkerRuntime } from './worker-runtime.js';

export interface ProcessRunnerOptions {
  config: Config;
  pool: Pool;
  queue: JobQueue;
  /** runs each task exactly as a worker would (never started: this runner feeds it) */
  runtime: WorkerRuntime;
  log: Logger;
}

/** How a run ended. */
export interface ProcessRunResult {
  processed: number;
  /** tasks ready to run now that this run left in the queue */
  remaining: number;
}

/** Thrown when another run holds the lock. */
export class RunInProgress extends Error {
  constructor() {
    super('another process run is in progress');
  }
}

// One run at a time across every API instance: a session-level advisory lock on its own client.
const LOCK_KEY = "hashtext('enrichd.process-run')";
const TRY_LOCK = `SELECT pg_try_advisory_lock(${LOCK_KEY}) AS locked`;
const UNLOCK = `SELECT pg_advisory_unlock(${LOCK_KEY})`;

/** Takes tasks from the queue and runs them here until maxJobs are done, the queue is empty, or time is up. */
export class ProcessRunner {
  constructor(private readonly opts: ProcessRunnerOptions) {}

  /** One run; throws RunInProgress when another run (in any process) holds the lock. */
  async run(maxJobs: number, timeoutMs: number): Promise<ProcessRunResult> {
    const lockClient = await this.opts.pool.connect();
    let locked = false;
    try {
      locked = (await lockClient.query<{ locked: boolean }>(TRY_LOCK)).rows[0]?.locked === true;
      if (!locked) throw new RunInProgress();
      const processed = await this.drain(maxJobs, Date.now() + timeoutMs);
      const counts = await this.opts.queue.getJobCounts('wait', 'prioritized');
      return { processed, remaining: (counts.wait ?? 0) + (counts.prioritized ?? 0) };
    } finally {
      if (locked) await lockClient.query(UNLOCK).catch(() => undefined);
      lockClient.release();
    }
  }

  /** The queue's task counts by state, for the endpoint's health answer. */
  async queueCounts(): Promise<Record<string, number>> {
    return this.opts.queue.getJobCounts('wait', 'prioritized', 'active', 'delayed');
  }

  private async drain(maxJobs: number, deadline: number): Promise<number> {
    const { config, runtime, log } = this.opts;
    // A worker's connection (BullMQ needs one that retries); a Redis outage ends the run at its deadline.
    const connection = createRedis(config.redisUrl, 'worker', log);
    // Not started (autorun false): tasks are taken one at a time with getNextJob and settled
    // by hand, so the run never holds more than the one task it is running.
    const worker = new Worker<TaskData>(QUEUE_NAME, null, {
      connection,
      prefix: config.queuePrefix,
      autorun: false,
      lockDuration: Math.max(50, Math.floor(config.stalledIntervalMs / 2)),
      skipVersionCheck: true,
      settings: TASK_SETTINGS,
    });
    worker.on('error', (err) => log.warn({ err: { message: err.message } }, 'process run queue error'));
    const token = randomUUID();
    let processed = 0;
    try {
      while (processed < maxJobs && Date.now() < deadline) {
        const task = await beforeDeadline(worker.getNextJob(token, { block: false }), deadline);
        if (!task) break;
        try {
          await runtime.runTask(task);
          await task.moveToCompleted(null, token, false);
        } catch (err) {
          // RetryLater: BullMQ waits our backoff (TASK_SETTINGS) before the next attempt.
          await task.moveToFailed(err instanceof Error ? err : new Error(String(err)), token, false);
        }
        processed++;
      }
    } finally {
      await worker.close(true).catch(() => undefined);
      connection.disconnect();
    }
    return processed;
  }
}

/** The promise's value, or undefined once the deadline passes first. */
async function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), Math.max(0, deadline - Date.now()))))]);
  } finally {
    clearTimeout(timer);
  }
}
