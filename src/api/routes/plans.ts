// Plan endpoints: create, page and read enrichment plans, under /v1/enrichment and its /api/enrichment alias.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { STEP_TYPES, createPlanBody } from '../../enrich/plan.js';
import { AppError } from '../../errors.js';
import { decodeCreatedCursor } from '../../lists/cursor.js';
import { insertPlan, listPlans, readPlan } from '../../lists/plans.js';
import { errorResponse, jobIdParams } from '../schemas/job.js';

export interface PlanRoutesOptions {
  pool: Pool;
  appRole: string;
  /** the path prefix these routes answer under (for Location headers) */
  base: string;
  /** hide from the OpenAPI document (the alias prefix) */
  hidden: boolean;
}

const planResponse = z
  .object({
    id: z.uuid(),
    name: z.string(),
    steps: z.array(z.object({ type: z.enum(STEP_TYPES as [string, ...string[]]), options: z.record(z.string(), z.unknown()) })),
    errorThreshold: z.number(),
    createdAt: z.string(),
  })
  .meta({ id: 'Plan' });

const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
});

/** Registers POST/GET /plans and GET /plans/:id. */
export async function planRoutes(app: FastifyInstance, opts: PlanRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pool, appRole, base, hidden } = opts;
  const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 413: errorResponse, 415: errorResponse };

  r.post('/plans', {
    schema: {
      hide: hidden,
      tags: ['plans'],
      summary: 'Create an enrichment plan',
      description:
        `Steps run in the given order, each type at most once: ${STEP_TYPES.join(', ')}. ` +
        'errorThreshold (0..1, default 1) is the share of failed entries above which a list job fails.',
      security: [{ bearerAuth: [] }],
      body: createPlanBody,
      response: { 201: planResponse, ...errors },
    },
  }, async (request, reply) => {
    const tenantId = request.auth.tenantId;
    const plan = await withTenant(pool, appRole, tenantId, (tx) => insertPlan(tx, tenantId, request.body));
    return reply.status(201).header('location', `${base}/plans/${plan.id}`).send(plan);
  });

  r.get('/plans', {
    schema: {
      hide: hidden,
      tags: ['plans'],
      summary: "Page the tenant's plans, newest first",
      security: [{ bearerAuth: [] }],
      querystring: pageQuery,
      response: { 200: z.object({ items: z.array(planResponse), nextCursor: z.string().nullable() }), ...errors },
    },
  }, async (request) => {
    const { limit, cursor } = request.query;
    const after = cursor !== undefined ? decodeCreatedCursor(cursor) : null;
    const tenantId = request.auth.tenantId;
    return withTenant(pool, appRole, tenantId, (tx) => listPlans(tx, tenantId, limit, after));
  });

  r.get('/plans/:id', {
    schema: {
      hide: hidden,
      tags: ['plans'],
      summary: 'Read a plan',
      security: [{ bearerAuth: [] }],
      params: jobIdParams,
      response: { 200: planResponse, ...errors },
    },
  }, async (request) => {
    const plan = await withTenant(pool, appRole, request.auth.tenantId, (tx) => readPlan(tx, request.params.id));
    if (!plan) throw new AppError('not_found', 'No such plan.');
    return plan;
  });
}
