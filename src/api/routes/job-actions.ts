// Job actions: cancel (DELETE), retry, change (PUT/PATCH), bulk cancel or retry, history,
// under /v1/enrichment and its /api/enrichment alias.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { AppError, validationError } from '../../errors.js';
import { bulkJobAction, cancelJob, queuedTaskIds, retryJob, updateJob } from '../../jobs/actions.js';
import { type JobRow, toJob } from '../../jobs/job.js';
import type { EventPublisher } from '../../events/stream.js';
import { type Dispatcher, dispatchableFromRow } from '../../queue/dispatch.js';
import type { JobQueue } from '../../queue/queue.js';
import { redisReady } from '../../queue/redis.js';
import { webhookUrlProblems } from '../create-job.js';
import { createJobBody, errorResponse, jobIdParams, jobResponse } from '../schemas/job.js';

export interface JobActionRoutesOptions {
  pool: Pool;
  appRole: string;
  dispatcher: Dispatcher;
  /** the queue the jobs' tasks wait in: a cancel removes them, a new priority reaches them */
  queue: JobQueue;
  /** the queue's fail-fast connection, to skip Redis work while it is down */
  redis: Redis;
  webhookAllowPrivate: boolean;
  hidden: boolean;
  /** announces cancels (job.cancelled) to live views */
  events?: EventPublisher;
}

// The same rules as at submit (createJobBody's fields); webhookUrl: null removes the webhook.
const updateBody = z
  .strictObject({
    priority: createJobBody.shape.priority,
    webhookUrl: createJobBody.shape.webhookUrl.unwrap().nullable().optional(),
    tags: createJobBody.shape.tags,
  })
  .default({});

const bulkBody = z.strictObject({
  jobIds: z.array(z.guid({ message: 'must be a UUID' })).min(1).max(1000),
  action: z.enum(['cancel', 'retry']),
});

const bulkResponse = z.object({
  results: z.array(z.object({
    id: z.string(),
    ok: z.boolean(),
    status: z.string().optional().describe('the job\'s status after the action, or the one that refused it'),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })),
});

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

/** Registers DELETE, PUT and PATCH /jobs/:id, POST /jobs/:id/retry, POST /jobs/bulk and GET /jobs/:id/history. */
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
    const { row, tasks } = await withTenant(pool, appRole, request.auth.tenantId, async (tx) => {
      const cancelled = await cancelJob(tx, request.params.id);
      return { row: cancelled, tasks: await queuedTaskIds(tx, [cancelled.id]) };
    });
    request.log.info({ jobId: row.id, tenantId: row.tenant_id, type: row.type, to: 'cancelled' }, 'job transition');
    opts.events?.publish([{ type: 'job.cancelled', row }]);
    await removeTasks(opts, tasks, request.log);
    return toJob(row);
  });

  const update = async (request: { auth: { tenantId: string }; params: { id: string }; body: z.infer<typeof updateBody>; log: FastifyBaseLogger }) => {
    const changes = request.body;
    if (typeof changes.webhookUrl === 'string') {
      const problems = webhookUrlProblems(changes.webhookUrl, opts.webhookAllowPrivate);
      if (problems.length > 0) throw validationError(problems);
    }
    const { before, after, tasks } = await withTenant(pool, appRole, request.auth.tenantId, async (tx) => {
      const updated = await updateJob(tx, request.params.id, changes);
      const moved = updated.after.priority !== updated.before.priority;
      return { ...updated, tasks: moved ? await queuedTaskIds(tx, [updated.after.id]) : [] };
    });
    request.log.info({
      jobId: after.id,
      tenantId: after.tenant_id,
      type: after.type,
      status: after.status,
      ...(after.priority !== before.priority ? { priority: { from: before.priority, to: after.priority } } : {}),
      ...(changes.tags !== undefined ? { tags: after.tags } : {}),
      // the URL itself may carry a secret: say only that it changed
      ...(changes.webhookUrl !== undefined ? { webhookUrlChanged: true } : {}),
    }, 'job updated');
    await reprioritiseTasks(opts, tasks, after.priority, request.log);
    return toJob(after);
  };
  const updateSchema = (method: string) => ({
    hide: hidden,
    tags: ['jobs'],
    summary: `Change a job's priority, webhook or tags (${method})`,
    description: 'Only the fields given change (webhookUrl: null removes it); a new priority also reaches the job\'s queued tasks. 409 when the job has finished.',
    security: [{ bearerAuth: [] }],
    params: jobIdParams,
    body: updateBody,
    response: { 200: jobResponse, ...errors },
  });
  r.patch('/jobs/:id', { schema: updateSchema('PATCH') }, update);
  r.put('/jobs/:id', { schema: updateSchema('PUT') }, update);

  r.post('/jobs/bulk', {
    schema: {
      hide: hidden,
      tags: ['jobs'],
      summary: 'Cancel or retry many jobs',
      description: 'One result per id, in the order given: ok, or the error (not_found, or conflict naming the status) for that job alone.',
      security: [{ bearerAuth: [] }],
      body: bulkBody,
      response: { 200: bulkResponse, ...errors },
    },
  }, async (request) => {
    const { jobIds, action } = request.body;
    const { outcomes, tasks } = await withTenant(pool, appRole, request.auth.tenantId, async (tx) => {
      const done = await bulkJobAction(tx, jobIds, action);
      const cancelled = action === 'cancel' ? done.flatMap((o) => (o.ok ? [o.row.id] : [])) : [];
      return { outcomes: done, tasks: await queuedTaskIds(tx, cancelled) };
    });
    const rows: JobRow[] = outcomes.flatMap((o) => (o.ok ? [o.row] : []));
    for (const row of rows) {
      request.log.info({ jobId: row.id, tenantId: row.tenant_id, type: row.type, to: row.status, bulk: true }, 'job transition');
    }
    if (action === 'cancel') opts.events?.publish(rows.map((row) => ({ type: 'job.cancelled' as const, row })));
    if (action === 'cancel') await removeTasks(opts, tasks, request.log);
    // Not taken now (Redis down): the relay queues them, as it does every undispatched job.
    else await queueRetried(dispatcher, rows, request.log);
    const byId = new Map(outcomes.map((o) => [o.id, o]));
    return {
      results: jobIds.map((id) => {
        const o = byId.get(id.toLowerCase())!;
        return o.ok
          ? { id, ok: true, status: o.row.status }
          : { id, ok: false, ...(o.status ? { status: o.status } : {}), error: o.error };
      }),
    };
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
    await queueRetried(dispatcher, [row], request.log);
    // A task of the job still waiting out a delay (it outlived the cancel) keeps its id, so the
    // add above was ignored: run that one now instead.
    await bestEffort(opts, 'promote', [row.id], request.log, async () => {
      const task = await opts.queue.getJob(row.id);
      if (task && (await task.isDelayed())) await task.promote();
    });
    return reply.status(202).send(toJob(row));
  });
}

/**
 * Queues retried jobs: at once, or under TENANT_MAX_ACTIVE through their tenants' release, so
 * a retry takes its turn like a submit. Not taken now (Redis down): the relay queues them.
 */
async function queueRetried(dispatcher: Dispatcher, rows: JobRow[], log: FastifyBaseLogger): Promise<void> {
  if (rows.length === 0) return;
  if (!dispatcher.fairness) {
    await dispatcher.dispatch(rows.map((row) => dispatchableFromRow(row)));
    return;
  }
  await dispatcher.fairness.release([...new Set(rows.map((r) => r.tenant_id))]).catch((err: Error) => {
    log.warn({ err: { message: err.message } }, 'release of retried jobs failed; the relay will queue them');
  });
}

// Redis work after a commit is best effort: PostgreSQL already holds the truth, a worker
// skips a task whose job is cancelled, and the reconciler re-queues what a flush lost.
const TASK_TIMEOUT_MS = 700;

async function bestEffort(opts: JobActionRoutesOptions, what: string, tasks: string[], log: FastifyBaseLogger, work: () => Promise<unknown>): Promise<void> {
  if (tasks.length === 0) return;
  if (!redisReady(opts.redis)) {
    log.warn({ tasks: tasks.length }, `${what} skipped: Redis is down`);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${TASK_TIMEOUT_MS} ms`)), TASK_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    log.warn({ err: { message: (err as Error).message }, tasks: tasks.length }, `${what} failed`);
  } finally {
    clearTimeout(timer);
  }
}

/** Removes waiting tasks from Redis; an active (locked) or absent task is left alone. */
async function removeTasks(opts: JobActionRoutesOptions, tasks: string[], log: FastifyBaseLogger): Promise<void> {
  await bestEffort(opts, 'removing cancelled tasks', tasks, log, () => Promise.all(tasks.map((id) => opts.queue.remove(id))));
}

/**
 * Gives queued tasks a new priority. BullMQ moves a waiting or prioritized task to its new
 * place; for a delayed task it records the priority it will wait with once due; for an
 * active one it only records it (it is running already). An absent task is skipped.
 */
async function reprioritiseTasks(opts: JobActionRoutesOptions, tasks: string[], priority: number, log: FastifyBaseLogger): Promise<void> {
  await bestEffort(opts, 'changing task priority', tasks, log, () =>
    Promise.all(tasks.map(async (id) => {
      const task = await opts.queue.getJob(id);
      await task?.changePriority({ priority });
    })));
}
