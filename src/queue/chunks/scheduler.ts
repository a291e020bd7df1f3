// Plans a list job's chunks and keeps a small window of them queued in Redis.
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { type ChunkedJob, planListChunks } from '../../jobs/list-chunks.js';
import { type JobQueue, chunkTaskOptions } from '../queue.js';
import { CHUNK_COUNTS, FILL_WINDOW, QUEUED_CHUNKS } from './sql.js';

export type { ChunkedJob };

export interface ChunkSchedulerOptions {
  pool: Pool;
  appRole: string;
  queue: JobQueue;
  /** chunk tasks of one job queued at once */
  window: number;
}

/** What starting (or resuming) a list job found. */
export type BeginOutcome = { kind: 'queued'; chunks: number } | { kind: 'nothing_left' };

/** Plans chunks by keyset over entry ids and releases them into Redis a window at a time. */
export class ChunkScheduler {
  constructor(private readonly opts: ChunkSchedulerOptions) {}

  /**
   * Starts or resumes a list job's attempt: plans its chunks when it has none, then tops its
   * window up and (re)queues every queued chunk; a chunk already in Redis is not added twice.
   */
  async begin(job: ChunkedJob, listId: string, chunkSize: number): Promise<BeginOutcome> {
    const queued = await withTenant(this.opts.pool, this.opts.appRole, job.tenantId, async (tx) => {
      const counts = (await tx.query<{ total: number; open: number }>(CHUNK_COUNTS, [job.id])).rows[0]!;
      if (counts.total === 0) {
        const planned = await planListChunks(tx, job, listId, chunkSize);
        if (planned === 0) return null;
      } else if (counts.open === 0) {
        return null;
      }
      const { rows } = await tx.query<{ seq: number }>(FILL_WINDOW, [job.id, this.opts.window]);
      return rows.map((r) => r.seq);
    });
    if (queued === null) return { kind: 'nothing_left' };
    await this.add(job, queued);
    return { kind: 'queued', chunks: queued.length };
  }

  /** Queues the job's queued chunks again (after a lost task or a skipped duplicate). */
  async requeue(job: ChunkedJob): Promise<number> {
    const seqs = await withTenant(this.opts.pool, this.opts.appRole, job.tenantId, async (tx) =>
      (await tx.query<{ seq: number }>(QUEUED_CHUNKS, [job.id])).rows.map((r) => r.seq),
    );
    await this.add(job, seqs);
    return seqs.length;
  }

  /** Adds chunk tasks to the queue; BullMQ ignores one whose id it already holds. */
  async add(job: ChunkedJob, seqs: number[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.opts.queue.addBulk(seqs.map((seq) => chunkTaskOptions({ jobId: job.id, tenantId: job.tenantId, type: job.type, priority: job.priority, seq })));
  }
}
