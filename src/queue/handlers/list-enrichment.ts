// list_enrichment's handler: plans the list's chunks and queues the first window of them.
import type { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import type { listEnrichmentPayload } from '../../jobs/types/list-enrichment.js';
import { summarise } from '../chunks/runner.js';
import type { ChunkScheduler } from '../chunks/scheduler.js';
import { type JobContext, type JobHandler, RunsInChunks } from './handler.js';

/** The list_enrichment handler: the job goes on in chunk tasks, or ends now when none are left. */
export function listEnrichmentHandler(scheduler: ChunkScheduler, pool: Pool, appRole: string): JobHandler {
  return async (ctx: JobContext) => {
    const p = ctx.payload as z.infer<typeof listEnrichmentPayload>;
    const { job } = ctx;
    const begun = await scheduler.begin({ id: job.id, tenantId: job.tenant_id, type: job.type, priority: job.priority }, p.listId, p.chunkSize ?? 50);
    if (begun.kind === 'queued') return new RunsInChunks(begun.chunks);
    // An empty list, or every chunk already done: the summary is the result.
    return withTenant(pool, appRole, job.tenant_id, async (tx) => {
      const { rows } = await tx.query<{ progress_processed: number; progress_failed: number }>(
        'SELECT progress_processed, progress_failed FROM enrichment_jobs WHERE id = $1::uuid', [job.id],
      );
      return summarise(tx, job.id, rows[0]?.progress_processed ?? 0, rows[0]?.progress_failed ?? 0);
    });
  };
}
