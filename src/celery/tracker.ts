// Follows the Celery tasks this process sent until they end, and ends their jobs' attempts
// through the same batched transitions as every worker. A task's state comes from the result
// backend's pub/sub channel (`celery-task-meta-<id>`), with a periodic MGET of the same keys
// as a safety net; only the attempt a task was sent for can end its job.
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import type { EventPublisher } from '../events/stream.js';
import { type BackoffPolicy, backoffDelay } from '../jobs/backoff.js';
import type { JobError, JobRow } from '../jobs/job.js';
import type { JobTypeRegistry } from '../jobs/types/registry.js';
import type { Metrics } from '../observability/metrics.js';
import { StepDeferred } from '../enrich/plan.js';
import { dispatchableFromRow } from '../queue/dispatch.js';
import type { Fairness } from '../queue/fairness.js';
import { type JobQueue, taskOptions } from '../queue/queue.js';
import { createRedis, isRedisConnectionError } from '../queue/redis.js';
import { Transitions } from '../queue/transitions.js';
import { CeleryBroker } from './broker.js';
import type { CelerySettings } from './config.js';
import { type CeleryCall, type CeleryMessage, TASK_ID_PREFIX, buildCeleryMessage, celeryTaskId } from './message.js';
import { RESULT_KEY_PREFIX, type TaskState, readTaskMeta } from './result.js';

export interface CeleryTrackerOptions {
  settings: CelerySettings;
  pool: Pool;
  /** the BullMQ queue: a failed attempt's next try is queued there, after its backoff */
  queue: JobQueue;
  registry: JobTypeRegistry;
  /** RETRY_*; a type's own backoff overrides it */
  retry: BackoffPolicy;
  /** ms between sweeps (timeouts, missed results, cancelled jobs) */
  sweepIntervalMs: number;
  /** GRACEFUL_SHUTDOWN_TIMEOUT: how long close() waits for the tasks that are out */
  shutdownGraceMs: number;
  log: Logger;
  events?: EventPublisher;
  metrics?: Metrics;
  fairness?: Fairness;
  /** the process's batched transitions (shared with its workers: their starts and the tracker's finishes commit together) */
  transitions?: Transitions;
}

/** One attempt whose Celery task is out. */
interface Tracked {
  taskId: string;
  message: CeleryMessage;
  row: JobRow;
  /** the attempt's end: no result by then fails the attempt (the job's timeout) */
  deadline: number;
  lastProgressAt: number;
  /** when the task was handed to the broker (ms) */
  sentAt: number;
  /** an outcome is being recorded: later news of the task waits */
  settling: boolean;
}

type Outcome =
  | { to: 'completed'; value: unknown }
  | { to: 'failed'; error: JobError; permanent: boolean };

const PROGRESS_EVERY_MS = 1000;
const MGET_CHUNK = 500;
const SEND_RETRY_MS = 1000;
const FORGET_LINGER_MS = 100;
const ORIGIN = `gen${process.pid}@${hostname()}`;

// Progress moves only the current attempt's counters, and never a finished job's.
const SET_PROGRESS = `
UPDATE enrichment_jobs SET progress_total = $3::int, progress_processed = LEAST($4::int, $3::int), updated_at = now()
WHERE id = $1::uuid AND attempts = $2::int AND status = 'running'
RETURNING *`;
const CURRENT = 'SELECT id::text, status, attempts FROM enrichment_jobs WHERE id = ANY($1::uuid[])';

export class CeleryTracker {
  private readonly tracked = new Map<string, Tracked>();
  private readonly broker: CeleryBroker;
  private readonly backend: Redis;
  private readonly subscriber: Redis;
  private readonly transitions: Transitions;
  private timer: NodeJS.Timeout | undefined;
  private forgetting: string[] = [];
  private sweeping: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: CeleryTrackerOptions) {
    this.log = opts.log.child({ part: 'celery' });
    this.broker = new CeleryBroker(opts.settings.brokerUrl, this.log);
    this.backend = createRedis(opts.settings.resultBackendUrl, 'queue', this.log);
    this.subscriber = createRedis(opts.settings.resultBackendUrl, 'worker', this.log);
    this.transitions = opts.transitions ?? new Transitions(opts.pool);
  }

  /** Subscribes to the result channels of enrichd's tasks and starts the sweep. */
  async start(): Promise<void> {
    this.subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
      const t = this.tracked.get(channel.slice(RESULT_KEY_PREFIX.length));
      if (t) this.onState(t, readTaskMeta(message));
    });
    // Not awaited: with the backend down the subscription is made when it comes back (and
    // ioredis re-subscribes after every reconnect); the sweep reads the keys meanwhile.
    this.subscriber.psubscribe(`${RESULT_KEY_PREFIX}${TASK_ID_PREFIX}*`).catch(() => undefined);
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((err: Error) => {
          if (!isRedisConnectionError(err)) this.log.warn({ err: { message: err.message } }, 'celery sweep failed');
        })
        .finally(() => (this.sweeping = undefined));
    }, this.opts.sweepIntervalMs);
    this.timer.unref();
  }

  /** Attempts whose tasks are out. */
  get size(): number {
    return this.tracked.size;
  }

  /**
   * Sends one attempt's task and follows it. Throws CeleryMessageRefused for a call no worker
   * should get, and StepDeferred while the broker is unreachable (waiting is not a try).
   */
  async send(row: JobRow, call: CeleryCall): Promise<string> {
    const taskId = celeryTaskId(row.id, row.attempts);
    const deadline = (row.attempt_started_at?.getTime() ?? Date.now()) + row.timeout_ms;
    const message = buildCeleryMessage(call, {
      taskId,
      priority: row.priority,
      allowedTasks: this.opts.settings.allowedTasks,
      origin: ORIGIN,
      expiresAt: new Date(deadline),
      // No Celery time limit: enrichd times the attempt itself (and revokes with terminate), and
      // a prefork pool arms a timer per task that has one.
      hardTimeLimitSeconds: null,
    });
    // Tracked before it is sent: the fastest worker's answer finds it.
    this.tracked.set(taskId, { taskId, message, row, deadline, lastProgressAt: 0, sentAt: Date.now(), settling: false });
    try {
      await this.broker.send(message);
    } catch (err) {
      this.tracked.delete(taskId);
      throw new StepDeferred(Date.now() + SEND_RETRY_MS, `the Celery broker is unreachable: ${(err as Error).message}`);
    }
    return taskId;
  }

  private onState(t: Tracked, state: TaskState | null): void {
    if (!state || t.settling) return;
    switch (state.kind) {
      case 'succeeded':
        return this.settle(t, { to: 'completed', value: state.value });
      case 'failed':
        return this.settle(t, { to: 'failed', error: { message: `${state.type}: ${state.message}`, code: 'celery_task_failed', type: state.type, at: new Date().toISOString() }, permanent: false });
      case 'revoked':
        return this.settle(t, { to: 'failed', error: { message: 'the Celery task was revoked', code: 'celery_revoked', at: new Date().toISOString() }, permanent: true });
      case 'progress':
        return this.progress(t, state.processed, state.total);
      default:
        return;
    }
  }

  private progress(t: Tracked, processed: number, total: number): void {
    const now = Date.now();
    const announce = now - t.lastProgressAt >= PROGRESS_EVERY_MS;
    if (announce) t.lastProgressAt = now;
    this.opts.pool
      .query<JobRow>(SET_PROGRESS, [t.row.id, t.row.attempts, total, processed])
      .then(({ rows }) => {
        if (announce && rows[0]) this.opts.events?.publish([{ type: 'job.progress', row: rows[0] }]);
      })
      .catch((err: Error) => this.log.warn({ jobId: t.row.id, err: { message: err.message } }, 'celery progress not recorded'));
  }

  private settle(t: Tracked, outcome: Outcome): void {
    t.settling = true;
    this.finish(t, outcome).then(
      () => {
        this.tracked.delete(t.taskId);
        // The result is in PostgreSQL now; the backend's copy would only wait out its expiry.
        this.forget(t.taskId);
        this.opts.fairness?.releaseSoon(t.row.tenant_id);
      },
      (err: Error) => {
        // Left tracked: the next sweep reads the result key again and retries.
        t.settling = false;
        this.log.warn({ jobId: t.row.id, err: { message: err.message } }, 'celery outcome not recorded yet; retrying');
      },
    );
  }

  /**
   * Deletes result keys, gathered over FORGET_LINGER_MS into one UNLINK: nothing waits for it,
   * and on a busy host each socket write costs more than the command.
   */
  private forget(taskId: string): void {
    this.forgetting.push(`${RESULT_KEY_PREFIX}${taskId}`);
    if (this.forgetting.length > 1) return;
    setTimeout(() => void this.forgetNow(), FORGET_LINGER_MS).unref();
  }

  private async forgetNow(): Promise<void> {
    const keys = this.forgetting;
    this.forgetting = [];
    if (keys.length > 0) await this.backend.unlink(...keys).catch(() => undefined);
  }

  private async finish(t: Tracked, outcome: Outcome): Promise<void> {
    const { row } = t;
    const base = { jobId: row.id, tenantId: row.tenant_id, type: row.type, attempt: row.attempts, celeryTaskId: t.taskId };
    const workerId = row.worker_id ?? 'celery';
    if (outcome.to === 'completed') {
      const applied = await this.transitions.finish({
        id: row.id, attempt: row.attempts, workerId, to: 'completed', result: { value: outcome.value }, progress: { processed: 1, succeeded: 1, failed: 0 },
      });
      if (!applied) return this.log.info(base, 'attempt outcome discarded: the job was cancelled or handed back meanwhile');
      this.opts.metrics?.attemptEnded(row.type, 'completed', row.attempt_started_at);
      this.log.info({ ...base, from: 'running', to: 'completed' }, 'job transition');
      this.opts.events?.publish([{ type: 'job.completed', row: applied }]);
      return;
    }
    const attemptInRound = row.attempts - row.round_base;
    if (!outcome.permanent && attemptInRound < row.max_attempts) {
      const policy = { ...this.opts.retry, ...this.opts.registry.get(row.type)?.defaults.backoff };
      const delayMs = backoffDelay(policy, attemptInRound);
      const applied = await this.transitions.finish({ id: row.id, attempt: row.attempts, workerId, to: 'retrying', error: outcome.error, retryAt: new Date(Date.now() + delayMs) });
      if (!applied) return;
      this.opts.events?.publish([{ type: 'job.retrying', row: applied }]);
      this.opts.metrics?.attemptEnded(row.type, 'retrying', row.attempt_started_at);
      this.log.info({ ...base, from: 'running', to: 'retrying', delayMs, error: outcome.error.message }, 'job transition');
      void this.requeue(applied);
      return;
    }
    const applied = await this.transitions.finish({
      id: row.id, attempt: row.attempts, workerId, to: 'failed', error: outcome.error, progress: { processed: 1, succeeded: 0, failed: 1 },
    });
    if (!applied) return;
    this.opts.metrics?.attemptEnded(row.type, 'failed', row.attempt_started_at, !outcome.permanent);
    this.log.warn({ ...base, from: 'running', to: 'failed', error: outcome.error.message }, 'job transition');
    this.opts.events?.publish([{ type: 'job.failed', row: applied }]);
  }

  /**
   * Queues the job's next attempt after its backoff. The attempt's own BullMQ task may still be
   * finishing (a task that fails at once answers within a millisecond or two), and BullMQ would
   * ignore an add under the same id, so it waits for that task to be gone. With Redis down,
   * the reconciler re-queues the retrying job instead.
   */
  private async requeue(row: JobRow): Promise<void> {
    try {
      for (let i = 0; i < 100; i++) {
        const state = await this.opts.queue.getJobState(row.id);
        if (state === 'unknown') break;
        await sleep(20);
      }
      const t = taskOptions(dispatchableFromRow(row));
      await this.opts.queue.add(t.name, t.data, t.opts);
    } catch (err) {
      this.log.warn({ jobId: row.id, err: { message: (err as Error).message } }, 'retry not queued; the reconciler will queue it');
    }
  }

  /** Timeouts, results the channel did not bring, and tasks whose jobs were cancelled or moved on. */
  private async sweep(): Promise<void> {
    const now = Date.now();
    const open = [...this.tracked.values()].filter((t) => !t.settling);
    if (open.length === 0) return;
    for (const t of open) {
      if (now <= t.deadline) continue;
      this.settle(t, { to: 'failed', error: { message: `attempt timed out after ${t.row.timeout_ms} ms without a result from the Celery worker`, code: 'timeout', at: new Date().toISOString() }, permanent: false });
      this.broker.revoke([t.taskId], true).catch(() => undefined);
    }
    const waiting = open.filter((t) => !t.settling);
    // The channel brings nearly every state at once; only a task out for a whole sweep
    // interval may have had its message missed (a reconnect), so only those are read.
    const missed = waiting.filter((t) => now - t.sentAt >= this.opts.sweepIntervalMs);
    for (let i = 0; i < missed.length; i += MGET_CHUNK) {
      const chunk = missed.slice(i, i + MGET_CHUNK);
      const values = await this.backend.mget(chunk.map((t) => `${RESULT_KEY_PREFIX}${t.taskId}`));
      chunk.forEach((t, j) => {
        const v = values[j];
        if (v) this.onState(t, readTaskMeta(v));
      });
    }
    await this.withdrawStale(waiting.filter((t) => !t.settling));
  }

  /**
   * A job cancelled (or handed back, or retried by a client) while its task is out: the task
   * is taken back from its queue list if no worker has it yet, and revoked otherwise, so a
   * worker that prefetched it drops it. A task already running finishes; its outcome is discarded.
   */
  private async withdrawStale(open: Tracked[]): Promise<void> {
    if (open.length === 0) return;
    const { rows } = await this.opts.pool.query<{ id: string; status: string; attempts: number }>(CURRENT, [[...new Set(open.map((t) => t.row.id))]]);
    const current = new Map(rows.map((r) => [r.id, r]));
    const stale = open.filter((t) => {
      const r = current.get(t.row.id);
      return !t.settling && (!r || r.status !== 'running' || r.attempts !== t.row.attempts);
    });
    if (stale.length === 0) return;
    const revoke: string[] = [];
    for (const t of stale) {
      this.tracked.delete(t.taskId);
      if (!(await this.broker.takeBack(t.message))) revoke.push(t.taskId);
      this.log.info({ jobId: t.row.id, celeryTaskId: t.taskId, status: current.get(t.row.id)?.status ?? 'gone' }, 'celery task withdrawn: its attempt is no longer current');
    }
    await this.broker.revoke(revoke, false);
  }

  /**
   * Stops following tasks: waits up to graceMs for the ones out, then hands their jobs back
   * (to pending, queued at once, their tasks withdrawn), as a worker does with its attempts at shutdown.
   */
  async close(graceMs = this.opts.shutdownGraceMs): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.tracked.size > 0 && Date.now() < deadline) await sleep(20);
    clearInterval(this.timer);
    await this.sweeping;
    for (const t of [...this.tracked.values()]) {
      if (t.settling) continue;
      this.tracked.delete(t.taskId);
      const error: JobError = { message: 'handed back: the process following its Celery task shut down', code: 'shutdown', at: new Date().toISOString() };
      try {
        const applied = await this.transitions.finish({ id: t.row.id, attempt: t.row.attempts, workerId: t.row.worker_id ?? 'celery', to: 'pending', error });
        if (!(await this.broker.takeBack(t.message))) await this.broker.revoke([t.taskId], false);
        if (applied) await this.requeue(applied);
      } catch (err) {
        this.log.warn({ jobId: t.row.id, err: { message: (err as Error).message } }, 'celery attempt not handed back; the reconciler will');
      }
    }
    await this.forgetNow();
    this.subscriber.disconnect();
    this.backend.disconnect();
    this.broker.close();
  }
}
