// The worker sweep: a worker silent for three heartbeat intervals is marked dead, and its
// running jobs go back to pending and to the queue, so another worker starts them now.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import type { JobError, JobRow } from '../jobs/job.js';
import { CHUNKED_TYPES } from '../jobs/list-chunks.js';
import { type Dispatcher, dispatchableFromRow } from './dispatch.js';
import { type JobQueue, QUEUE_NAME } from './queue.js';
import { Transitions } from './transitions.js';

/** Heartbeat intervals of silence after which a worker is dead (CONTRACT.md). */
export const SILENT_INTERVALS = 3;

// A worker's running jobs number at most its MAX_CONCURRENT_JOBS: one page is all of them.
const PAGE = 1000;

// A stopped worker said goodbye at shutdown; only the silent ones are found dead. Marking a
// death again (after a heartbeat cleared an earlier one) starts its recovery over.
const MARK_DEAD = `
UPDATE enrichment_workers SET dead_at = now(), jobs_recovered_at = NULL
WHERE dead_at IS NULL AND stopped_at IS NULL
  AND last_heartbeat_at < now() - make_interval(secs => $1::float8 / 1000)
RETURNING id, host, pid, last_heartbeat_at`;

const UNRECOVERED = `
SELECT id FROM enrichment_workers WHERE dead_at IS NOT NULL AND jobs_recovered_at IS NULL`;

// A list job stays running under the worker that planned it while its chunk tasks run on any
// worker (BullMQ recovers a dead worker's chunk tasks, the reconciler a stuck chunk window):
// handing it back would plan it again. Its planning attempt, if the worker died during it, is
// an active task like any other, which BullMQ's stall check hands back.
const ORPHANED_JOBS = `
SELECT id, tenant_id, type, attempts, worker_id
FROM enrichment_jobs
WHERE status = 'running' AND worker_id = ANY($1::text[]) AND type <> ALL($2::text[])
ORDER BY id
LIMIT $3::int`;

// Only while still dead: a worker that came back owns whatever it runs now.
const RECOVERED = `
UPDATE enrichment_workers SET jobs_recovered_at = now()
WHERE id = ANY($1::text[]) AND dead_at IS NOT NULL`;

type Orphan = Pick<JobRow, 'id' | 'tenant_id' | 'type' | 'attempts'> & { worker_id: string };

interface DeadWorker {
  id: string;
  host: string;
  pid: number;
  last_heartbeat_at: Date;
}

export interface WorkerSweepOptions {
  pool: Pool;
  redis: Redis;
  queue: JobQueue;
  dispatcher: Dispatcher;
  prefix: string;
  healthCheckIntervalMs: number;
  log: Logger;
}

/** What one sweep did. */
export interface SweepOutcome {
  dead: number;
  handedBack: number;
}

/**
 * Finds dead workers and hands their jobs back, through the same transition (running to
 * pending, recorded) as a worker's own hand-back at shutdown. Every step is conditional, so
 * two leaders for a moment (one about to learn it lost its lock) cannot run a job twice.
 */
export class WorkerSweep {
  private readonly transitions: Transitions;

  constructor(private readonly opts: WorkerSweepOptions) {
    this.transitions = new Transitions(opts.pool);
  }

  /** Marks newly silent workers dead and hands back the jobs of every dead one not yet recovered. */
  async run(): Promise<SweepOutcome> {
    const dead = await this.markDead();
    const { rows: workers } = await this.opts.pool.query<{ id: string }>(UNRECOVERED);
    if (workers.length === 0) return { dead, handedBack: 0 };
    const ids = workers.map((w) => w.id);
    const { rows: orphans } = await this.opts.pool.query<Orphan>(ORPHANED_JOBS, [ids, CHUNKED_TYPES, PAGE]);
    const outcomes = await Promise.all(orphans.map((o) => this.handBack(o)));
    // A worker is done with once none of its jobs is left running; one whose task is still
    // held (or a page too full to tell) is looked at again next tick.
    const held = new Set(orphans.filter((_, i) => outcomes[i] === 'held').map((o) => o.worker_id));
    const done = orphans.length < PAGE ? ids.filter((id) => !held.has(id)) : [];
    if (done.length > 0) await this.opts.pool.query(RECOVERED, [done]);
    return { dead, handedBack: outcomes.filter((o) => o === 'handed_back').length };
  }

  private async markDead(): Promise<number> {
    const silentMs = SILENT_INTERVALS * this.opts.healthCheckIntervalMs;
    const { rows } = await this.opts.pool.query<DeadWorker>(MARK_DEAD, [silentMs]);
    for (const w of rows) {
      this.opts.log.warn(
        { workerId: w.id, workerHost: w.host, workerPid: w.pid, lastHeartbeatAt: w.last_heartbeat_at.toISOString(), silentMs },
        `worker silent for ${SILENT_INTERVALS} heartbeat intervals: marked dead`,
      );
    }
    return rows.length;
  }

  /**
   * One job of a dead worker. Its task under a live lock is left alone: BullMQ still counts
   * the worker alive (its heartbeat fails on its own, or it froze within the lock's duration),
   * and the lock lapses or the worker comes back. Otherwise the attempt ends as handed back,
   * and the stale task gives way to a fresh one that any worker takes at once.
   */
  private async handBack(job: Orphan): Promise<'held' | 'handed_back' | 'moved_on'> {
    if ((await this.opts.redis.exists(`${this.opts.prefix}:${QUEUE_NAME}:${job.id}:lock`)) === 1) return 'held';
    const error: JobError = {
      message: `handed back: its worker stalled, silent for ${SILENT_INTERVALS} heartbeat intervals`,
      code: 'worker_dead',
      at: new Date().toISOString(),
    };
    const applied = await this.transitions.finish({ id: job.id, attempt: job.attempts, workerId: job.worker_id, to: 'pending', error });
    // Started elsewhere (BullMQ's stall check got there first), finished or cancelled meanwhile.
    if (!applied) return 'moved_on';
    this.opts.log.info(
      { jobId: job.id, tenantId: job.tenant_id, type: job.type, attempt: job.attempts, workerId: job.worker_id, from: 'running', to: 'pending' },
      'job transition',
    );
    // remove() refuses a locked task: a live worker took it meanwhile and starts the job itself.
    // A task that Redis then refuses is the reconciler's: the job is pending and dispatched.
    if ((await this.opts.queue.remove(job.id)) === 1 && !(await this.opts.dispatcher.dispatch([dispatchableFromRow(applied)]))) {
      throw new Error('Redis refused a handed-back task');
    }
    return 'handed_back';
  }
}
