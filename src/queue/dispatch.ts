// Hands recorded jobs to BullMQ and marks them dispatched; never waits on a Redis that is down.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import type { JobRow } from '../jobs/job.js';
import { Batcher } from '../util/batcher.js';
import { type Dispatchable, type JobQueue, taskOptions } from './queue.js';
import { redisReady } from './redis.js';

const ADD_TIMEOUT_MS = 700;

const MARK_DISPATCHED = `
UPDATE enrichment_jobs SET dispatched_at = now()
WHERE id = ANY($1::uuid[]) AND dispatched_at IS NULL`;

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

export class Dispatcher {
  private readonly marker: Batcher<string, void>;

  constructor(
    private readonly queue: JobQueue,
    private readonly redis: Redis,
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {
    this.marker = new Batcher<string, void>({
      maxBatch: 1000,
      maxInFlight: 2,
      run: async (ids) => {
        await this.pool.query(MARK_DISPATCHED, [ids]);
        return ids.map(() => undefined);
      },
    });
  }

  /**
   * Adds tasks to BullMQ; true when Redis took them. The dispatched_at mark is written
   * after, in the background: if it is lost, the relay adds again and BullMQ (or the
   * worker's status check) ignores the duplicate.
   */
  async dispatch(tasks: Dispatchable[]): Promise<boolean> {
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
    for (const t of tasks) {
      this.marker.add(t.id).catch((err: Error) => this.log.warn({ err: { message: err.message } }, 'marking dispatched failed; the relay will re-add'));
    }
    return true;
  }

  /** Waits until the background dispatched_at marks are written (for shutdown and tests). */
  async flush(): Promise<void> {
    while (this.marker.size > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
