// A worker process's engine: takes tasks from BullMQ, runs handlers, records every transition.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { type Job as Task, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { type BackoffPolicy, backoffDelay } from '../jobs/backoff.js';
import { type JobError, type JobRow, toResultObject } from '../jobs/job.js';
import type { JobTypeRegistry } from '../jobs/types/registry.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventPublisher } from '../events/stream.js';
import type { ChunkRunner } from './chunks/runner.js';
import type { Fairness } from './fairness.js';
import { AttemptTimeoutError, ItemsOutcome, type JobContext, type JobHandler, PermanentJobError, RunsElsewhere, RunsInChunks } from './handlers/handler.js';
import { QUEUE_NAME, type TaskData } from './queue.js';
import { createRedis, isRedisConnectionError, redisReady } from './redis.js';
import { CHUNKED_TYPES } from '../jobs/list-chunks.js';
import { RetryLater } from './retry-later.js';
import { StepDeferred } from '../enrich/plan.js';
import { type StartedAttempt, Transitions } from './transitions.js';

export interface WorkerRuntimeOptions {
  config: Config;
  pool: Pool;
  registry: JobTypeRegistry;
  handlers: Map<string, JobHandler>;
  /** runs chunk tasks of list jobs */
  chunks?: ChunkRunner;
  /** live events of transitions; absent where a test builds a runtime without them */
  events?: EventPublisher;
  log: Logger;
  /** counts attempts and heartbeats; absent where a test builds a runtime without one */
  metrics?: Metrics;
  /** TENANT_MAX_ACTIVE: told when a task of a tenant ends, so the tenant's next job is released at once */
  fairness?: Fairness;
  /** the process's batched transitions, shared with its Celery tracker (fewer, larger transactions); its own if absent */
  transitions?: Transitions;
}

const REGISTER_WORKER = `
INSERT INTO enrichment_workers (id, host, pid) VALUES ($1::text, $2::text, $3::int)
ON CONFLICT (id) DO UPDATE SET last_heartbeat_at = now(), stopped_at = NULL`;
// A worker the leader found dead (silent too long: frozen, paused) is alive again at its next
// heartbeat; `was` (the row before the update) says whether it had been marked dead.
const HEARTBEAT = `
UPDATE enrichment_workers w SET last_heartbeat_at = now(), in_flight = $2::int, processed = $3::bigint, dead_at = NULL
FROM enrichment_workers was
WHERE w.id = $1::text AND was.id = w.id
RETURNING was.dead_at`;
const STOPPED = `
UPDATE enrichment_workers SET stopped_at = now(), in_flight = 0, processed = $2::bigint WHERE id = $1::text`;

const MAX_ERROR_MESSAGE = 2000;
/** The longest a deferred job's task waits before it looks again (a provider may name a far reset). */
const MAX_DEFER_MS = 60_000;

/** BullMQ settings of every worker of ours: a retried task waits our backoff (RetryLater), not its own. */
export const TASK_SETTINGS = {
  backoffStrategy: (_made: number, _type: string | undefined, err: Error | undefined) => (err instanceof RetryLater ? err.delayMs : 1000),
};
const CLOSE_MARGIN_MS = 2000;

/** Makes a worker id that says where it runs: host:pid:random. */
export function makeWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export class WorkerRuntime {
  readonly id = makeWorkerId();
  private readonly transitions: Transitions;
  private readonly log: Logger;
  private worker: Worker<TaskData> | undefined;
  private redis: Redis | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private untrackInFlight: (() => void) | undefined;
  private processed = 0;
  private readonly aborts = new Set<AbortController>();

  constructor(private readonly opts: WorkerRuntimeOptions) {
    this.transitions = opts.transitions ?? new Transitions(opts.pool);
    this.log = opts.log.child({ workerId: this.id });
  }

  /** Registers the worker and starts taking tasks. */
  async start(): Promise<void> {
    const { config } = this.opts;
    await this.opts.pool.query(REGISTER_WORKER, [this.id, hostname(), process.pid]);
    this.redis = createRedis(config.redisUrl, 'worker', this.log);
    this.worker = new Worker<TaskData>(QUEUE_NAME, (task) => this.runTask(task), {
      connection: this.redis,
      prefix: config.queuePrefix,
      concurrency: config.maxConcurrentJobs,
      // Half the interval each: a dead worker's lock lapses within S/2 and BullMQ's two-pass
      // stall check (mark, then move) ends within S/2 more, so the job runs again within 2 S.
      lockDuration: Math.max(50, Math.floor(config.stalledIntervalMs / 2)),
      stalledInterval: Math.max(50, Math.floor(config.stalledIntervalMs / 2)),
      // PostgreSQL counts stalls as attempts and fails a job that keeps stalling.
      maxStalledCount: 1_000_000,
      skipVersionCheck: true,
      name: this.id,
      settings: TASK_SETTINGS,
    });
    // Unreachable Redis is logged once by the connection watcher, not once per reconnect attempt.
    this.worker.on('error', (err) => {
      if (isRedisConnectionError(err)) this.log.debug({ err: { message: err.message } }, 'worker queue connection error');
      else this.log.warn({ err: { message: err.message } }, 'worker queue error');
    });
    this.heartbeat = setInterval(() => {
      this.opts.pool
        .query<{ dead_at: Date | null }>(HEARTBEAT, [this.id, this.inFlight, this.processed])
        .then(({ rows }) => {
          this.opts.metrics?.heartbeat();
          const deadAt = rows[0]?.dead_at;
          // Attempts of its that the sweep handed back meanwhile end with their outcomes discarded.
          if (deadAt) this.log.warn({ deadAt: deadAt.toISOString() }, 'worker back after being marked dead');
        })
        .catch((err: Error) => this.log.warn({ err: { message: err.message } }, 'heartbeat failed'));
    }, config.healthCheckIntervalMs);
    this.heartbeat.unref();
    this.untrackInFlight = this.opts.metrics?.trackInFlight(() => this.inFlight);
    this.log.info({ concurrency: config.maxConcurrentJobs }, 'worker started');
  }

  /** Stops taking tasks, lets running ones finish for up to graceMs, then aborts them. */
  async close(graceMs = this.opts.config.gracefulShutdownTimeoutMs): Promise<void> {
    clearInterval(this.heartbeat);
    this.untrackInFlight?.();
    if (this.worker) {
      // BullMQ's graceful close waits for Redis to come back before it lets go of its blocking
      // connection. With Redis down, close by force and wait for our own tasks instead; and
      // never wait on a close past the grace, when every task has been aborted.
      const force = !this.redis || !redisReady(this.redis);
      const closing = this.worker.close(force).catch(() => undefined);
      const timer = setTimeout(() => {
        for (const ac of this.aborts) ac.abort(new ShuttingDown());
      }, graceMs);
      const deadline = Date.now() + graceMs + CLOSE_MARGIN_MS;
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([closing, new Promise((r) => (giveUp = setTimeout(r, deadline - Date.now())))]);
      clearTimeout(giveUp);
      while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      clearTimeout(timer);
    }
    await this.opts.pool.query(STOPPED, [this.id, this.processed]).catch(() => undefined);
    this.redis?.disconnect();
    this.log.info({ processed: this.processed }, 'worker stopped');
  }

  private logStart(s: StartedAttempt): void {
    const { row } = s;
    const base = { jobId: row.id, tenantId: row.tenant_id, type: row.type, attempt: row.attempts };
    if (s.fromStatus === 'scheduled' || s.fromStatus === 'running') {
      this.log.info({ ...base, from: s.fromStatus, to: 'pending' }, 'job transition');
      this.log.info({ ...base, from: 'pending', to: s.exhausted ? 'failed' : 'running' }, 'job transition');
    } else {
      this.log.info({ ...base, from: s.fromStatus, to: s.exhausted ? 'failed' : 'running' }, 'job transition');
    }
  }

  /** Runs one task taken from the queue (by this runtime's BullMQ worker, or by a process run). */
  async runTask(task: Task<TaskData>): Promise<void> {
    if (task.data.chunk) return this.runChunk(task);
    const started = await this.transitions.start(task.id!, this.id);
    if (!started) {
      this.opts.fairness?.releaseSoon(task.data.tenantId); // a cancelled job's slot is free
      this.log.debug({ jobId: task.id }, 'stale task skipped: the job is finished or cancelled');
      return;
    }
    this.logStart(started);
    this.opts.events?.publish([{ type: started.exhausted ? 'job.failed' : 'job.started', row: started.row }]);
    if (started.exhausted) this.opts.metrics?.attemptEnded(started.row.type, 'failed', null, true);
    else this.opts.metrics?.attemptStarted(started.row.type, started.row);
    if (started.exhausted) return this.opts.fairness?.releaseSoon(started.row.tenant_id);
    this.inFlight++;
    try {
      await this.runAttempt(started.row);
    } finally {
      this.inFlight--;
      this.processed++;
      this.opts.fairness?.releaseSoon(started.row.tenant_id);
    }
  }

  private async runChunk(task: Task<TaskData>): Promise<void> {
    if (!this.opts.chunks) throw new Error('this worker runs no chunk tasks');
    this.inFlight++;
    try {
      const outcome = await this.opts.chunks.run(task, this.id);
      if (outcome === 'job_done') this.opts.fairness?.releaseSoon(task.data.tenantId);
      if (outcome === 'job_done') this.log.info({ jobId: task.data.chunk!.jobId, seq: task.data.chunk!.seq }, 'list job ended by its last chunk');
    } finally {
      this.inFlight--;
      this.processed++;
    }
  }

  private async runAttempt(row: JobRow): Promise<void> {
    const handler = this.opts.handlers.get(row.type);
    const ac = new AbortController();
    this.aborts.add(ac);
    // A list job counts entries, whatever its total (even one); other jobs are one item.
    const singleItem = row.progress_total === 1 && !CHUNKED_TYPES.includes(row.type);
    const base = { jobId: row.id, tenantId: row.tenant_id, type: row.type, attempt: row.attempts };
    try {
      if (!handler) throw new PermanentJobError(`no handler is registered for job type ${row.type}`, 'no_handler');
      const parent = this.log;
      let jobLog: Logger | undefined;
      const ctx: JobContext = {
        job: row,
        payload: row.payload,
        attempt: row.attempts,
        signal: ac.signal,
        // pino's child() serialises its bindings at once, and most attempts never log.
        get log() {
          return (jobLog ??= parent.child({ jobId: row.id }));
        },
      };
      const value = await withTimeout(handler(ctx), row.timeout_ms, ac);
      if (value instanceof RunsInChunks) {
        this.log.info({ ...base, chunks: value.chunks }, 'list job queued its chunks');
        return;
      }
      if (value instanceof RunsElsewhere) {
        this.log.debug({ ...base, where: value.where }, 'attempt handed to an outside runner');
        return;
      }
      const items = value instanceof ItemsOutcome ? value : null;
      const applied = await this.transitions.finish({
        id: row.id,
        attempt: row.attempts,
        workerId: this.id,
        to: 'completed',
        result: toResultObject(items ? items.result : value),
        progress: items ? items.progress : singleItem ? { processed: 1, succeeded: 1, failed: 0 } : null,
      });
      if (applied) this.opts.metrics?.attemptEnded(row.type, 'completed', row.attempt_started_at);
      if (applied) this.log.info({ ...base, from: 'running', to: 'completed' }, 'job transition');
      if (applied) this.opts.events?.publish([{ type: 'job.completed', row: applied }]);
      else this.log.info(base, 'attempt outcome discarded: the job was cancelled or handed back meanwhile');
    } catch (err) {
      await this.fail(row, err, singleItem);
    } finally {
      this.aborts.delete(ac);
    }
  }

  private async fail(row: JobRow, err: unknown, singleItem: boolean): Promise<void> {
    if (err instanceof ShuttingDown) return this.handBack(row);
    if (err instanceof StepDeferred) return this.defer(row, err);
    const error = toJobError(err);
    const attemptInRound = row.attempts - row.round_base;
    const permanent = err instanceof PermanentJobError;
    const base = { jobId: row.id, tenantId: row.tenant_id, type: row.type, attempt: row.attempts };
    if (!permanent && attemptInRound < row.max_attempts) {
      const policy = this.backoffPolicy(row.type);
      const delayMs = backoffDelay(policy, attemptInRound);
      const applied = await this.transitions.finish({
        id: row.id,
        attempt: row.attempts,
        workerId: this.id,
        to: 'retrying',
        error,
        retryAt: new Date(Date.now() + delayMs),
      });
      if (!applied) return;
      this.opts.events?.publish([{ type: 'job.retrying', row: applied }]);
      this.opts.metrics?.attemptEnded(row.type, 'retrying', row.attempt_started_at);
      this.log.info({ ...base, from: 'running', to: 'retrying', delayMs, error: error.message }, 'job transition');
      throw new RetryLater(delayMs, error.message);
    }
    const applied = await this.transitions.finish({
      id: row.id,
      attempt: row.attempts,
      workerId: this.id,
      to: 'failed',
      error,
      progress: singleItem ? { processed: 1, succeeded: 0, failed: 1 } : null,
    });
    if (applied) this.opts.metrics?.attemptEnded(row.type, 'failed', row.attempt_started_at, !permanent);
    if (applied) this.log.warn({ ...base, from: 'running', to: 'failed', error: error.message }, 'job transition');
    if (applied) this.opts.events?.publish([{ type: 'job.failed', row: applied }]);
  }

  /**
   * An attempt still running when the shutdown grace ran out goes back to pending (recorded),
   * and its task back to the queue at once (RetryLater(0)), so another worker starts it now
   * rather than after a stall check. It counted as an attempt, as a stalled one does.
   */
  private async handBack(row: JobRow): Promise<never> {
    const error: JobError = { message: 'handed back: the worker shut down before the attempt finished', code: 'shutdown', at: new Date().toISOString() };
    const applied = await this.transitions.finish({ id: row.id, attempt: row.attempts, workerId: this.id, to: 'pending', error });
    if (applied) this.log.info({ jobId: row.id, tenantId: row.tenant_id, type: row.type, attempt: row.attempts, from: 'running', to: 'pending' }, 'job transition');
    throw new RetryLater(0, error.message);
  }

  /**
   * A provider lookup must wait longer than an attempt should hold its slot (a rate limit, a
   * throttle, an answer due by webhook): the job goes back to pending with its attempt given
   * back (waiting is not a try), and its task returns to the queue when the wait ends.
   */
  private async defer(row: JobRow, deferred: StepDeferred): Promise<never | void> {
    const delayMs = Math.max(0, Math.min(MAX_DEFER_MS, deferred.retryAt - Date.now()));
    const note = `deferred ${delayMs} ms: ${deferred.message}`.slice(0, MAX_ERROR_MESSAGE);
    const applied = await this.transitions.finish({ id: row.id, attempt: row.attempts, workerId: this.id, to: 'pending', unspend: true, note });
    if (!applied) return; // cancelled or handed back meanwhile: nothing to wait for
    this.log.info({ jobId: row.id, tenantId: row.tenant_id, type: row.type, attempt: row.attempts, from: 'running', to: 'pending', delayMs, reason: deferred.message }, 'job transition');
    throw new RetryLater(delayMs, note);
  }

  private backoffPolicy(type: string): BackoffPolicy {
    return { ...this.opts.config.retry, ...this.opts.registry.get(type)?.defaults.backoff };
  }
}

/** The recorded form of an attempt's error: message and code, never a stack. */
function toJobError(err: unknown): JobError {
  const message = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_MESSAGE);
  const code = err instanceof PermanentJobError || err instanceof AttemptTimeoutError ? err.code : 'handler_error';
  return { message, code, at: new Date().toISOString() };
}

/** Why a running attempt was aborted at shutdown: it is handed back, not failed. */
class ShuttingDown extends Error {
  constructor() {
    super('worker shutting down');
    this.name = 'ShuttingDown';
  }
}

/**
 * Races a handler against its timeout and against the shutdown: on timeout the handler's
 * signal is aborted; at shutdown (the signal aborted with ShuttingDown) the attempt ends now,
 * whether or not the handler heeds its signal.
 */
async function withTimeout<T>(work: Promise<T>, ms: number, ac: AbortController): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const err = new AttemptTimeoutError(ms);
          ac.abort(err);
          reject(err);
        }, ms);
        onAbort = () => {
          if (ac.signal.reason instanceof ShuttingDown) reject(ac.signal.reason);
        };
        ac.signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) ac.signal.removeEventListener('abort', onAbort);
  }
}
