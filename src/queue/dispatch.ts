// Hands recorded jobs to BullMQ and marks them dispatched; never waits on a Redis that is down.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import { BY_PRIMARY_KEY, systemBatch } from '../db/transaction.js';
import type { JobRow } from '../jobs/job.js';
import { JOB_STATUSES } from '../jobs/status.js';
import { Fairness } from './fairness.js';
import { type Dispatchable, type JobQueue, taskOptions } from './queue.js';
import { redisReady } from './redis.js';

const ADD_TIMEOUT_MS = 700;

// A job that a worker starts meanwhile is left alone: the start records dispatched_at itself,
// and the relay looks only at pending and scheduled jobs. The status test is written as
// "none of the others" on purpose: `status IN ('pending', 'scheduled')` would match the
// relay's partial index, which the planner then prefers (on fresh statistics) and walks
// whole, once per mark, instead of looking the ids up by primary key.
const MARK_DISPATCHED = `
UPDATE enrichment_jobs SET dispatched_at = now()
WHERE id = ANY($1::uuid[]) AND dispatched_at IS NULL AND status <> ALL($2::text[])`;
const NOT_MARKABLE = JOB_STATUSES.filter((s) => s !== 'pending' && s !== 'scheduled');

// Well inside the relay's 300 ms grace, so it still sees marks on time; long enough that a
// worker has usually started the job, which then costs no write at all.
const MARK_DELAY_MS = 100;
const MARK_MAX = 1000;

/** The task for a stored job, delayed until its runAt or its next retry. */
export function dispatchableFromRow(row: Pick<JobRow, 'id' | 'tenant_id' | 'type' | 'priority' | 'status' | 'run_at' | 'retry_at'>, now = Date.now()): Dispatchable {
  const at = row.status === 'scheduled' ? row.run_at : row.status === 'retrying' ? row.retry_at : null;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    type: row.type,
    priority: row.priority,
    delayMs: at ? Math.max(0, at.getTime() - now) : 0,
  };
}

/**
 * Writes dispatched_at marks in the background, gathered over MARK_DELAY_MS into one
 * statement. A lost or late mark only makes the relay add the task again, which BullMQ
 * (or the worker's status check) ignores.
 */
class DispatchMarks {
  private waiting: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  add(ids: string[]): void {
    for (const id of ids) this.waiting.push(id);
    if (!this.timer) {
      this.timer = setTimeout(() => this.writeNow(), MARK_DELAY_MS);
      this.timer.unref();
    }
  }

  /** Writes every waiting mark now and waits for all writes in progress. */
  async flush(): Promise<void> {
    this.writeNow();
    await Promise.all([...this.writing]);
  }

  private writeNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.waiting.length > 0) {
      const ids = this.waiting.splice(0, MARK_MAX);
      const write: Promise<void> = systemBatch(this.pool, [BY_PRIMARY_KEY, { text: MARK_DISPATCHED, values: [ids, NOT_MARKABLE] }])
        .then(
          () => undefined,
          (err: Error) => this.log.warn({ err: { message: err.message }, jobs: ids.length }, 'marking dispatched failed; the relay will re-add'),
        )
        .finally(() => this.writing.delete(write));
      this.writing.add(write);
    }
  }
}

export class Dispatcher {
  private readonly marks: DispatchMarks;
  /** set when TENANT_MAX_ACTIVE caps each tenant's tasks in Redis (the submitter, relay and workers release through it) */
  readonly fairness: Fairness | undefined;

  constructor(
    private readonly queue: JobQueue,
    private readonly redis: Redis,
    pool: Pool,
    private readonly log: Logger,
    tenantMaxActive = 0,
  ) {
    this.marks = new DispatchMarks(pool, log);
    this.fairness = tenantMaxActive > 0 ? new Fairness(pool, this, log, tenantMaxActive) : undefined;
  }

  /**
   * Adds tasks to BullMQ; true when Redis took them. The dispatched_at mark is written
   * after, in the background (see DispatchMarks).
   */
  async dispatch(tasks: Dispatchable[]): Promise<boolean> {
    if (!(await this.addReleased(tasks))) return false;
    this.marks.add(tasks.map((t) => t.id));
    return true;
  }

  /** Adds tasks whose jobs are already marked dispatched (released under the tenant cap); true when Redis took them. */
  async addReleased(tasks: Dispatchable[]): Promise<boolean> {
    if (tasks.length === 0) return true;
    if (!redisReady(this.redis)) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.queue.addBulk(tasks.map(taskOptions)),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`queue add timed out after ${ADD_TIMEOUT_MS} ms`)), ADD_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      this.log.warn({ err: { message: (err as Error).message }, jobs: tasks.length }, 'dispatch deferred to the relay');
      return false;
    } finally {
      clearTimeout(timer);
    }
    return true;
  }

  /** Writes the waiting dispatched_at marks now and waits for them (for the relay, shutdown and tests). */
  async flush(): Promise<void> {
    await this.fairness?.idle();
    await this.marks.flush();
  }
}
