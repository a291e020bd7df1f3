// The leader's duties, run every POLL_INTERVAL by whichever process holds the lock.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import type { PgConnectionWatch } from '../observability/connection-watch.js';
import type { ChunkScheduler } from './chunks/scheduler.js';
import type { Dispatcher } from './dispatch.js';
import { Leadership } from './leader.js';
import type { JobQueue } from './queue.js';
import { Reconciler } from './reconciler.js';
import { redisReady } from './redis.js';
import { relayUndispatched } from './relay.js';
import { WorkerSweep } from './worker-sweep.js';
import type { RetentionConfig } from '../config.js';
import { RetentionSweep } from '../retention/sweep.js';

export interface LeaderLoopOptions {
  pool: Pool;
  redis: Redis;
  dispatcher: Dispatcher;
  /** the worker sweep removes a dead worker's stale tasks through it */
  queue: JobQueue;
  prefix: string;
  pollIntervalMs: number;
  /** HEALTH_CHECK_INTERVAL: a worker silent for three of them is dead */
  healthCheckIntervalMs: number;
  reconcileIntervalMs: number;
  stalledIntervalMs: number;
  log: Logger;
  /** requeues running list jobs' chunk windows that Redis lost */
  chunks?: ChunkScheduler;
  /** told whether PostgreSQL answered each tick, so its loss and return are logged */
  pgWatch?: PgConnectionWatch;
  /** RETENTION_*: the retention sweep runs at most every sweepIntervalMs; absent, it does not run */
  retention?: RetentionConfig;
}

/** Relay, epoch check, worker sweep and reconcile sweep on a timer, only while this process leads. */
export class LeaderLoop {
  private readonly leadership: Leadership;
  private readonly reconciler: Reconciler;
  private readonly workerSweep: WorkerSweep;
  private readonly retention: RetentionSweep | undefined;
  private retentionRun: Promise<void> | undefined;
  private lastRetention = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastSweep = 0;
  private failing = false;
  private stopped = false;

  constructor(private readonly opts: LeaderLoopOptions) {
    this.leadership = new Leadership(opts.pool, opts.log, opts.pgWatch);
    this.reconciler = new Reconciler({
      pool: opts.pool,
      redis: opts.redis,
      dispatcher: opts.dispatcher,
      prefix: opts.prefix,
      stalledIntervalMs: opts.stalledIntervalMs,
      chunks: opts.chunks,
    });
    this.workerSweep = new WorkerSweep({
      pool: opts.pool,
      redis: opts.redis,
      queue: opts.queue,
      dispatcher: opts.dispatcher,
      prefix: opts.prefix,
      healthCheckIntervalMs: opts.healthCheckIntervalMs,
      log: opts.log,
    });
    if (opts.retention) this.retention = new RetentionSweep({ pool: opts.pool, retention: opts.retention, log: opts.log });
  }

  /** Starts ticking. */
  start(): void {
    this.stopped = false;
    const loop = () => {
      this.running = this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.opts.pollIntervalMs);
      });
    };
    loop();
  }

  /** Stops ticking and gives up the lock. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.retention?.stop();
    await this.running;
    await this.retentionRun;
    await this.leadership.release();
  }

  /**
   * Leader or not, every process runs this check each tick, so it is also the process's probe
   * of PostgreSQL: only its outcome (never a Redis error later in the tick) drives the watch.
   */
  private async probeLeadership(): Promise<boolean> {
    try {
      const leading = await this.leadership.check();
      this.opts.pgWatch?.succeeded();
      return leading;
    } catch (err) {
      this.opts.pgWatch?.failed(err);
      throw err;
    }
  }

  /**
   * The retention sweep needs only PostgreSQL and runs beside the tick, not in it, so its
   * deletes (up to its time budget) never hold back the relay; one run at a time.
   */
  private startRetention(): void {
    const interval = this.opts.retention?.sweepIntervalMs ?? 0;
    if (!this.retention || this.retentionRun || Date.now() - this.lastRetention < interval) return;
    this.lastRetention = Date.now();
    this.retentionRun = this.retention
      .run()
      .then(() => undefined)
      .catch((err: unknown) => this.opts.log.warn({ err: { message: (err as Error).message } }, 'retention sweep failed; retrying next interval'))
      .finally(() => {
        this.retentionRun = undefined;
      });
  }

  /** One round of the leader's duties; errors are logged once per streak. */
  async tick(): Promise<void> {
    try {
      if (!(await this.probeLeadership())) return;
      this.startRetention();
      if (!redisReady(this.opts.redis)) return;
      const relayed = await relayUndispatched(this.opts.pool, this.opts.dispatcher);
      if (relayed > 0) this.opts.log.info({ jobs: relayed }, 'relay queued undispatched jobs');
      const restored = await this.reconciler.checkEpoch();
      if (restored > 0) this.opts.log.warn({ jobs: restored }, 'Redis lost its tasks; reconciler re-queued unfinished jobs');
      // Each tick, so a death is found within one poll of its third silent interval.
      const { handedBack } = await this.workerSweep.run();
      if (handedBack > 0) this.opts.log.warn({ jobs: handedBack }, 'worker sweep handed back jobs of dead workers');
      if (Date.now() - this.lastSweep >= this.opts.reconcileIntervalMs) {
        this.lastSweep = Date.now();
        const swept = await this.reconciler.sweep(Math.max(60_000, 2 * this.opts.reconcileIntervalMs));
        if (swept > 0) this.opts.log.warn({ jobs: swept }, 'reconciler re-queued jobs missing from Redis');
      }
      if (this.failing) this.opts.log.info('leader duties recovered');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.opts.log.warn({ err: { message: (err as Error).message } }, 'leader duties failed; retrying');
      this.failing = true;
    }
  }
}
