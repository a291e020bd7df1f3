// Job actions: cancel (DELETE) and retry, under /v1/enrichment and its /api/enrichment alias.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { AppError } from '../../errors.js';
import { cancelJob, retryJob } from '../../jobs/actions.js';
import { toJob } from '../../jobs/job.js';
import { type Dispatcher, dispatchableFromRow } from '../../queue/dispatch.js';
import { errorResponse, jobIdParams, jobResponse } from '../schemas/job.js';

export interface JobActionRoutesOptions {
  pool: Pool;
  appRole: string;
  dispatcher: Dispatcher;
  hidden: boolean;
}

const retryBody = z
  .strictObject({
    scope: z.enum(['job', 'failed_entries']).default('job').describe('`failed_entries` (a finished list job) re-runs only the entries whose steps raised'),
  })
  .default({ scope: 'job' });

const historyResponse = z.object({
  events: z.array(z.object({
    at: z.string(),
    from: z.string().nullable(),
    to: z.string(),
    attempt: z.number(),
    workerId: z.string().nullable(),
    message: z.string().optional(),
  })),
  entryErrors: z.array(z.object({ entryId: z.string(), step: z.string(), message: z.string() })).describe('a sample of entries whose steps raised (at most 100)'),
});

const JOB_EXISTS = 'SELECT 1 FROM enrichment_jobs WHERE id = $1::uuid';
const JOB_EVENTS = `
SELECT at, from_status, to_status, attempt, worker_id, message FROM enrichment_job_events WHERE job_id = $1::uuid ORDER BY id`;
const ENTRY_ERRORS = `
SELECT r.entry_id::text AS entry_id, e.key AS step, e.value AS message
FROM (SELECT entry_id, errors FROM entry_results WHERE job_id = $1::uuid AND errors IS NOT NULL ORDER BY entry_id LIMIT 100) r
CROSS JOIN LATERAL json_each_text(r.errors) e
ORDER BY r.entry_id, e.key
LIMIT 100`;

/** Registers DELETE /jobs/:id, POST /jobs/:id/retry and GET /jobs/:id/history. */
export async function jobActionRoutes(app: FastifyInstance, opts: JobActionRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pool, appRole, dispatcher, hidden } = opts;
  const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse };

  r.delete('/jobs/:id', {
    schema: {
      hide: hidden,
      tags: ['jobs'],
      summary: 'Cancel a job',
      description: 'A running list job stops at its next chunk and keeps what it wrote; a running attempt\'s outcome is discarded. 409 when the job has finished.',
      security: [{ bearerAuth: [] }],
      params: jobIdParams,
      response: { 200: jobResponse, ...errors },
    },
  }, async (request) => {
    const row = await withTenant(pool, appRole, request.auth.tenantId, (tx) => cancelJob(tx, request.params.id));
    request.log.info({ jobId: row.id, tenantId: row.tenant_id, type: row.type, to: 'cancelled' }, 'job transition');
    return toJob(row);
  });

  r.get('/jobs/:id/history', {
    schema: {
      hide: hidden,
      tags: ['jobs'],
      summary: 'A job\'s transitions and a sample of its entry errors',
      security: [{ bearerAuth: [] }],
      params: jobIdParams,
      response: { 200: historyResponse, ...errors },
    },
  }, async (request) => {
    return withTenant(pool, appRole, request.auth.tenantId, async (tx) => {
      const id = request.params.id;
      const [exists, events, entryErrors] = await Promise.all([
        tx.query(JOB_EXISTS, [id]),
        tx.query<{ at: Date; from_status: string | null; to_status: string; attempt: number; worker_id: string | null; message: string | null }>(JOB_EVENTS, [id]),
        tx.query<{ entry_id: string; step: string; message: string }>(ENTRY_ERRORS, [id]),
      ]);
      if (exists.rowCount === 0) throw new AppError('not_found', 'No such job.');
      return {
        events: events.rows.map((e) => ({
          at: e.at.toISOString(),
          from: e.from_status,
          to: e.to_status,
          attempt: e.attempt,
          workerId: e.worker_id,
          ...(e.message !== null ? { message: e.message } : {}),
        })),
        entryErrors: entryErrors.rows.map((e) => ({ entryId: e.entry_id, step: e.step, message: e.message })),
      };
    });
  });

  r.post('/jobs/:id/retry', {
    schema: {
      hide: hidden,
      tags: ['jobs'],
      summary: 'Retry a job',
      description: 'Puts a failed or cancelled job (or, with scope failed_entries, a finished list job) back to pending with a new round of maxAttempts attempts. 409 when not allowed.',
      security: [{ bearerAuth: [] }],
      params: jobIdParams,
      body: retryBody,
      response: { 202: jobResponse, ...errors },
    },
  }, async (request, reply) => {
    const row = await withTenant(pool, appRole, request.auth.tenantId, (tx) => retryJob(tx, request.params.id, request.body.scope));
    request.log.info({ jobId: row.id, tenantId: row.tenant_id, type: row.type, to: 'pending', scope: request.body.scope }, 'job transition');
    // Not taken now (Redis down): the relay queues it, as it does every undispatched job.
    await dispatcher.dispatch([dispatchableFromRow(row)]);
    return reply.status(202).send(toJob(row));
  });
}
