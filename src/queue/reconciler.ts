// The reconciler: puts back in Redis every unfinished job that Redis lost (a flush, a failover).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Pool } from '../db/pool.js';
import type { JobRow } from '../jobs/job.js';
import { type Dispatcher, dispatchableFromRow } from './dispatch.js';
import { CHUNKED_TYPES } from '../jobs/list-chunks.js';
import type { ChunkScheduler } from './chunks/scheduler.js';
import { QUEUE_NAME } from './queue.js';

const PAGE = 1000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

// Unfinished jobs that should have a task in Redis. A running job is only suspect once its
// attempt has outlived its timeout plus the stall window: until then its worker finishes it.
// A running list job goes on in chunk tasks, so it is suspect as soon as it stops moving.
const UNFINISHED_PAGE = `
SELECT id, tenant_id, type, priority, status, run_at, retry_at
FROM enrichment_jobs
WHERE status IN ('pending', 'scheduled', 'running', 'retrying')
  AND id > $1::uuid
  AND (dispatched_at IS NOT NULL OR status IN ('running', 'retrying'))
  AND updated_at < now() - make_interval(secs => $2::float8 / 1000)
  AND (status <> 'running' OR type = ANY($5::text[])
       OR attempt_started_at < now() - make_interval(secs => (timeout_ms + $3::float8) / 1000))
ORDER BY id
LIMIT $4::int`;


type Row = Pick<JobRow, 'id' | 'tenant_id' | 'type' | 'priority' | 'status' | 'run_at' | 'retry_at'>;

export interface ReconcilerOptions {
  pool: Pool;
  redis: Redis;
  dispatcher: Dispatcher;
  prefix: string;
  stalledIntervalMs: number;
  /** requeues the chunk window of running list jobs */
  chunks?: ChunkScheduler;
}

/**
 * Two checks. Each tick: the epoch key, which a FLUSHALL removes; when it is gone, every
 * unfinished job is checked at once. Every reconcile interval: one page of older unfinished
 * jobs, so a task lost any other way comes back too.
 */
export class Reconciler {
  private cursor = NIL_UUID;

  constructor(private readonly opts: ReconcilerOptions) {}

  private get epochKey(): string {
    return `${this.opts.prefix}:epoch`;
  }

  /** Re-queues everything when Redis lost its data since the last check; returns the count. */
  async checkEpoch(): Promise<number> {
    const epoch = await this.opts.redis.get(this.epochKey);
    if (epoch !== null) return 0;
    let total = 0;
    let cursor = NIL_UUID;
    for (;;) {
      const { rows, next } = await this.page(cursor, 0);
      total += await this.requeueMissing(rows);
      if (!next) break;
      cursor = next;
    }
    await this.opts.redis.set(this.epochKey, randomUUID(), 'NX');
    return total;
  }

  /** Checks one page of unfinished jobs older than minAgeMs; returns how many were re-queued. */
  async sweep(minAgeMs: number): Promise<number> {
    const { rows, next } = await this.page(this.cursor, minAgeMs);
    this.cursor = next ?? NIL_UUID;
    return this.requeueMissing(rows);
  }

  private async page(cursor: string, minAgeMs: number): Promise<{ rows: Row[]; next: string | null }> {
    const { rows } = await this.opts.pool.query<Row>(UNFINISHED_PAGE, [cursor, minAgeMs, 2 * this.opts.stalledIntervalMs, PAGE, CHUNKED_TYPES]);
    return { rows, next: rows.length === PAGE ? rows[rows.length - 1]!.id : null };
  }

  private async requeueMissing(rows: Row[]): Promise<number> {
    if (rows.length === 0) return 0;
    const pipeline = this.opts.redis.pipeline();
    for (const r of rows) pipeline.exists(`${this.opts.prefix}:${QUEUE_NAME}:${r.id}`);
    const results = (await pipeline.exec()) ?? [];
    let missing = rows.filter((_, i) => results[i]?.[1] === 0);
    // A running list job's own task is long done: its chunk window is what must be in Redis.
    // Only a job that never got as far as planning its chunks needs its own task again.
    const chunked = missing.filter((r) => r.status === 'running' && CHUNKED_TYPES.includes(r.type));
    if (chunked.length > 0 && this.opts.chunks) {
      const unplanned = new Set<string>();
      for (const r of chunked) {
        const queued = await this.opts.chunks.requeue({ id: r.id, tenantId: r.tenant_id, type: r.type, priority: r.priority });
        if (queued === 0) unplanned.add(r.id);
      }
      missing = missing.filter((r) => !chunked.includes(r) || unplanned.has(r.id));
    }
    if (missing.length === 0) return 0;
    const ok = await this.opts.dispatcher.dispatch(missing.map((r) => dispatchableFromRow(r)));
    if (!ok) throw new Error('Redis refused the re-queued tasks');
    return missing.length;
  }
}
