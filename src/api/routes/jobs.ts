// Job endpoints: create and read, under /v1/enrichment and its /api/enrichment alias.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { withTenant } from '../../db/transaction.js';
import { AppError } from '../../errors.js';
import { toJob } from '../../jobs/job.js';
import { getJob } from '../../jobs/repository.js';
import { type CreateJobDeps, type CreateJobOutcome, createJob } from '../create-job.js';
import { createJobBody, errorResponse, jobIdParams, jobResponse, legacyCreateJobBody } from '../schemas/job.js';

export interface JobRoutesOptions {
  deps: CreateJobDeps;
  /** the path prefix these routes answer under (for Location headers) */
  base: string;
  /** hide from the OpenAPI document (the alias prefix) */
  hidden: boolean;
}

const LEGACY_PATHS = new Map([
  ['payload.listId', 'list_id'],
  ['payload.planId', 'plan_id'],
  ['payload.chunkSize', 'chunk_size'],
]);

/** The older route's clients sent list_id and plan_id: name those in error details. */
function renameLegacyPaths(err: AppError): AppError {
  const details = err.details.map((d) => {
    const detail = d as { path?: string };
    const legacy = detail.path !== undefined ? LEGACY_PATHS.get(detail.path) : undefined;
    return legacy ? { ...detail, path: legacy } : d;
  });
  return new AppError(err.code, err.message, details);
}

const idempotencyHeader = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Registers POST/GET jobs and the older singular job routes. */
export async function jobRoutes(app: FastifyInstance, opts: JobRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { deps, base, hidden } = opts;
  const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse, 413: errorResponse, 415: errorResponse, 422: errorResponse };

  const answer = (reply: FastifyReply, outcome: CreateJobOutcome) => {
    const job = toJob(outcome.row);
    return reply
      .status(outcome.created ? 202 : 200)
      .header('location', `${base}/jobs/${job.id}`)
      .send(job);
  };

  r.post('/jobs', {
    schema: {
      hide: hidden,
      tags: ['jobs'],
      summary: 'Submit a job',
      description: 'Records the job, queues it and answers 202 (200 for a repeated Idempotency-Key with the same body).',
      security: [{ bearerAuth: [] }],
      body: createJobBody,
      response: { 200: jobResponse, 202: jobResponse, ...errors },
    },
  }, async (request, reply) => {
    const outcome = await createJob(deps, request.auth, request.body, idempotencyHeader(request.headers['idempotency-key']), request.log);
    return answer(reply, outcome);
  });

  r.get('/jobs/:id', {
    schema: {
      hide: hidden,
      tags: ['jobs'],
      summary: 'Read a job',
      security: [{ bearerAuth: [] }],
      params: jobIdParams,
      response: { 200: jobResponse, ...errors },
    },
  }, async (request) => {
    const row = await withTenant(deps.pool, deps.appRole, request.auth.tenantId, (tx) => getJob(tx, request.params.id));
    if (!row) throw new AppError('not_found', 'No such job.');
    return toJob(row);
  });

  r.post('/job', {
    schema: {
      hide: hidden,
      tags: ['jobs (older clients)'],
      summary: 'Submit a list_enrichment job (older clients)',
      security: [{ bearerAuth: [] }],
      body: legacyCreateJobBody,
      response: { 200: jobResponse, 202: jobResponse, ...errors },
    },
  }, async (request, reply) => {
    const b = request.body;
    const body = {
      type: 'list_enrichment',
      payload: { listId: b.list_id, planId: b.plan_id, ...(b.chunk_size !== undefined ? { chunkSize: b.chunk_size } : {}) },
    };
    try {
      const outcome = await createJob(deps, request.auth, body, idempotencyHeader(request.headers['idempotency-key']), request.log);
      return answer(reply, outcome);
    } catch (err) {
      throw err instanceof AppError ? renameLegacyPaths(err) : err;
    }
  });

  r.get('/job/:id', {
    schema: {
      hide: hidden,
      tags: ['jobs (older clients)'],
      summary: 'Read a job (older clients)',
      security: [{ bearerAuth: [] }],
      params: jobIdParams,
      response: { 200: jobResponse, ...errors },
    },
  }, async (request) => {
    const row = await withTenant(deps.pool, deps.appRole, request.auth.tenantId, (tx) => getJob(tx, request.params.id));
    if (!row) throw new AppError('not_found', 'No such job.');
    return toJob(row);
  });
}
