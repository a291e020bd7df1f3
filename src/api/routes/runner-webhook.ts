// POST /enrichment/webhook: an outside runner reports progress or the end of a job it runs.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { type Tx, withTenant } from '../../db/transaction.js';
import { AppError } from '../../errors.js';
import { findJsonProblem } from '../../jobs/json-guard.js';
import type { EventPublisher } from '../../events/stream.js';
import { insertProgressDeliveries } from '../../events/webhooks/progress.js';
import { type JobRow, toJob, toResultObject } from '../../jobs/job.js';
import { type JobStatus, canTransition } from '../../jobs/status.js';
import { errorResponse, jobResponse } from '../schemas/job.js';
import { type ProviderWebhookDeps, receiveProviderWebhook, webhookAnswer } from './provider-webhooks.js';

export interface RunnerWebhookRoutesOptions {
  pool: Pool;
  appRole: string;
  hidden: boolean;
  events?: EventPublisher;
  /** provider callbacks (`?provider=`) on this path */
  providerWebhooks: ProviderWebhookDeps;
}

const count = z.number().int().min(0);
const body = z.discriminatedUnion('event', [
  z.strictObject({
    jobId: z.guid({ message: 'must be a UUID' }),
    event: z.literal('job.progress'),
    data: z.strictObject({ processed: count, total: count, succeeded: count.optional(), failed: count.optional() }),
  }),
  z.strictObject({ jobId: z.guid({ message: 'must be a UUID' }), event: z.literal('job.completed'), data: z.unknown().describe('the result') }),
  z.strictObject({
    jobId: z.guid({ message: 'must be a UUID' }),
    event: z.literal('job.failed'),
    data: z.strictObject({ message: z.string().min(1).max(2000), code: z.string().max(100).optional() }),
  }),
]);
type RunnerReport = z.infer<typeof body>;

const LOCK = 'SELECT status FROM enrichment_jobs WHERE id = $1::uuid FOR UPDATE';

const PROGRESS = `
UPDATE enrichment_jobs SET
  progress_total = $2::int, progress_processed = $3::int,
  progress_succeeded = COALESCE($4::int, progress_succeeded), progress_failed = COALESCE($5::int, progress_failed),
  updated_at = now()
WHERE id = $1::uuid
RETURNING *`;

// The event row it writes makes the webhook deliveries (0006's trigger) in this transaction.
const FINISH = `
WITH upd AS (
  UPDATE enrichment_jobs SET
    status = $2::text,
    result = CASE WHEN $2::text = 'completed' THEN $3::jsonb ELSE result END,
    last_error = COALESCE($4::jsonb, last_error),
    completed_at = now(), retry_at = NULL, updated_at = now()
  WHERE id = $1::uuid
  RETURNING *
), ev AS (
  INSERT INTO enrichment_job_events (job_id, tenant_id, from_status, to_status, attempt, worker_id, message)
  SELECT id, tenant_id, 'running', status, attempts, worker_id, $5::text FROM upd
)
SELECT * FROM upd`;

/** The status a report moves the job to (progress keeps it running). */
const TARGET: Record<RunnerReport['event'], JobStatus> = { 'job.progress': 'running', 'job.completed': 'completed', 'job.failed': 'failed' };

// job.progress deliveries at most once a second per job from this process, as the chunk runner does.
const PROGRESS_EVERY_MS = 1000;

const providerOf = (query: unknown): string | undefined => {
  const p = (query as { provider?: unknown } | null)?.provider;
  return typeof p === 'string' ? p : undefined;
};

/**
 * Registers POST /webhook: outside runners' reports (JWT), and with `?provider=` provider
 * callbacks (HMAC over the raw body, as POST /v1/webhooks/providers/:provider).
 */
export async function runnerWebhookRoutes(app: FastifyInstance, opts: RunnerWebhookRoutesOptions): Promise<void> {
  // A scope of its own: provider callbacks need the raw body, which the shared JSON parser drops.
  await app.register(async (scope) => runnerWebhookRoute(scope, opts));
}

async function runnerWebhookRoute(app: FastifyInstance, opts: RunnerWebhookRoutesOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, raw, done) => {
    if (providerOf(req.query) !== undefined) return done(null, raw);
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return done(new AppError('unsupported_media_type', 'The body is not JSON.'), undefined);
    let value: unknown;
    try {
      value = JSON.parse(raw as string);
    } catch {
      return done(new AppError('invalid_json', 'The body is not valid JSON.'), undefined);
    }
    const problem = findJsonProblem(value);
    if (problem) return done(new AppError('invalid_json', `The body is not acceptable: ${problem.message}.`, [problem]), undefined);
    done(null, value);
  });
  // Provider callbacks are answered before the runners' body schema is applied.
  app.addHook('preValidation', async (request, reply) => {
    const provider = providerOf(request.query);
    if (provider === undefined) return;
    const answer = await receiveProviderWebhook(opts.providerWebhooks, provider, request.headers, typeof request.body === 'string' ? request.body : '');
    return reply.status(200).send(answer);
  });
  const r = app.withTypeProvider<ZodTypeProvider>();
  const lastProgress = new Map<string, number>();

  async function apply(tx: Tx, report: RunnerReport): Promise<JobRow> {
    const { rows } = await tx.query<{ status: JobStatus }>(LOCK, [report.jobId]);
    const status = rows[0]?.status;
    if (!status) throw new AppError('not_found', 'No such job.');
    const to = TARGET[report.event];
    // Progress needs a running job; the ends follow the transition table from running.
    if (status !== 'running' || (to !== 'running' && !canTransition(status, to))) {
      throw new AppError('conflict', `The job is ${status}; a runner may report ${report.event} only on a running job.`, [{ path: 'status', message: status }]);
    }
    if (report.event === 'job.progress') {
      const d = report.data;
      const updated = await tx.query<JobRow>(PROGRESS, [report.jobId, d.total, d.processed, d.succeeded ?? null, d.failed ?? null]);
      const now = Date.now();
      if (now - (lastProgress.get(report.jobId) ?? 0) >= PROGRESS_EVERY_MS) {
        lastProgress.set(report.jobId, now);
        if (lastProgress.size > 10_000) lastProgress.clear();
        await insertProgressDeliveries(tx, report.jobId);
      }
      return updated.rows[0]!;
    }
    const result = report.event === 'job.completed' ? toResultObject(report.data) : null;
    const error = report.event === 'job.failed' ? { ...report.data, at: new Date().toISOString() } : null;
    const message = report.event === 'job.failed' ? report.data.message : 'reported by an outside runner';
    const finished = await tx.query<JobRow>(FINISH, [report.jobId, to, result === null ? null : JSON.stringify(result), error === null ? null : JSON.stringify(error), message]);
    return finished.rows[0]!;
  }

  r.post('/webhook', {
    schema: {
      hide: opts.hidden,
      tags: ['jobs'],
      summary: 'An outside runner reports on a job it runs',
      description:
        'job.progress: data {processed, total, succeeded?, failed?}; job.completed: data is the result; job.failed: data {message, code?}. ' +
        'The job must be running (409 naming its status otherwise). With `?provider=<name>` this path takes provider callbacks instead: ' +
        'no bearer; signed as POST /v1/webhooks/providers/{provider} describes, and answered {received, matched}.',
      security: [{ bearerAuth: [] }],
      querystring: z.object({ provider: z.string().max(100).optional() }),
      body,
      response: { 200: z.union([jobResponse, webhookAnswer]), 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse },
    },
  }, async (request) => {
    const report = request.body;
    const row = await withTenant(opts.pool, opts.appRole, request.auth.tenantId, (tx) => apply(tx, report));
    opts.events?.publish([{ type: report.event, row }]);
    return toJob(row);
  });
}
