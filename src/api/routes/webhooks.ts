// Webhook endpoints, the tenant's default secret, and deliveries with their attempts (under /v1).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { AppError, validationError } from '../../errors.js';
import { webhookTargetProblem } from '../../events/webhooks/ssrf.js';
import {
  WEBHOOK_EVENT_TYPES,
  createEndpoint,
  deleteEndpoint,
  jobDeliveries,
  listDeliveries,
  listEndpoints,
  readDelivery,
  rotateTenantSecret,
  tenantSecret,
} from '../../events/webhooks/store.js';
import { getJob } from '../../jobs/repository.js';
import { decodeCreatedCursor } from '../../lists/cursor.js';
import { errorResponse, jobIdParams } from '../schemas/job.js';

export interface WebhookRoutesOptions {
  pool: Pool;
  appRole: string;
  allowPrivate: boolean;
}

const endpointResponse = z
  .object({ id: z.uuid(), url: z.string(), events: z.array(z.string()), enabled: z.boolean(), createdAt: z.string() })
  .meta({ id: 'WebhookEndpoint' });

const attemptResponse = z.object({ at: z.string(), statusCode: z.number().int().nullable(), durationMs: z.number().int(), error: z.string().optional() });

const deliveryResponse = z
  .object({
    id: z.uuid(),
    jobId: z.uuid(),
    endpointId: z.uuid().nullable().describe("null: the job's own webhookUrl"),
    url: z.string(),
    event: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attemptCount: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
    attempts: z.array(attemptResponse).optional(),
  })
  .meta({ id: 'WebhookDelivery' });

const createEndpointBody = z.strictObject({
  url: z.string().max(2048),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length).optional().describe('default: all of them'),
});

const deliveriesQuery = z.object({
  jobId: z.guid({ message: 'must be a UUID' }).optional(),
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
});

/** Registers /webhooks/endpoints, /webhooks/secret, /webhooks/deliveries and /enrichment/jobs/:id/deliveries. */
export async function webhookRoutes(app: FastifyInstance, opts: WebhookRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pool, appRole } = opts;
  const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse };
  const common = { tags: ['webhooks'], security: [{ bearerAuth: [] }] };

  r.post('/webhooks/endpoints', {
    schema: {
      ...common,
      summary: 'Register a webhook endpoint',
      description: 'Answers the endpoint with its signing secret, shown only here. https only, and no private or internal targets, unless WEBHOOK_ALLOW_PRIVATE.',
      body: createEndpointBody,
      response: { 201: endpointResponse.extend({ secret: z.string() }), ...errors },
    },
  }, async (request, reply) => {
    const problem = webhookTargetProblem(request.body.url, opts.allowPrivate);
    if (problem) throw validationError([{ path: 'url', message: problem }]);
    const tenantId = request.auth.tenantId;
    const events = [...new Set(request.body.events ?? WEBHOOK_EVENT_TYPES)];
    const endpoint = await withTenant(pool, appRole, tenantId, (tx) => createEndpoint(tx, tenantId, request.body.url, events));
    return reply.status(201).send(endpoint);
  });

  r.get('/webhooks/endpoints', {
    schema: { ...common, summary: "The tenant's webhook endpoints (no secrets)", response: { 200: z.object({ items: z.array(endpointResponse) }), ...errors } },
  }, async (request) => ({ items: await withTenant(pool, appRole, request.auth.tenantId, listEndpoints) }));

  r.delete('/webhooks/endpoints/:id', {
    schema: { ...common, summary: 'Delete a webhook endpoint; its pending deliveries end as failed', params: jobIdParams, response: { 200: endpointResponse, ...errors } },
  }, async (request) => {
    const deleted = await withTenant(pool, appRole, request.auth.tenantId, (tx) => deleteEndpoint(tx, request.params.id));
    if (!deleted) throw new AppError('not_found', 'No such webhook endpoint.');
    return deleted;
  });

  r.get('/webhooks/secret', {
    schema: { ...common, summary: "The tenant's default secret, which signs deliveries to jobs' webhookUrl", response: { 200: z.object({ secret: z.string() }), ...errors } },
  }, async (request) => {
    const tenantId = request.auth.tenantId;
    return { secret: await withTenant(pool, appRole, tenantId, (tx) => tenantSecret(tx, tenantId)) };
  });

  r.post('/webhooks/secret/rotate', {
    schema: { ...common, summary: 'Rotate the default secret; the old one also signs for 24 h', response: { 200: z.object({ secret: z.string() }), ...errors } },
  }, async (request) => {
    const tenantId = request.auth.tenantId;
    return { secret: await withTenant(pool, appRole, tenantId, (tx) => rotateTenantSecret(tx, tenantId)) };
  });

  r.get('/webhooks/deliveries', {
    schema: {
      ...common,
      summary: "Page the tenant's webhook deliveries, newest first",
      querystring: deliveriesQuery,
      response: { 200: z.object({ items: z.array(deliveryResponse), nextCursor: z.string().nullable() }), ...errors },
    },
  }, async (request) => {
    const { jobId, status, limit, cursor } = request.query;
    const after = cursor !== undefined ? decodeCreatedCursor(cursor) : null;
    return withTenant(pool, appRole, request.auth.tenantId, (tx) => listDeliveries(tx, { jobId, status, limit, after }));
  });

  r.get('/webhooks/deliveries/:id', {
    schema: { ...common, summary: 'One webhook delivery with every attempt', params: jobIdParams, response: { 200: deliveryResponse, ...errors } },
  }, async (request) => {
    const delivery = await withTenant(pool, appRole, request.auth.tenantId, (tx) => readDelivery(tx, request.params.id));
    if (!delivery) throw new AppError('not_found', 'No such webhook delivery.');
    return delivery;
  });

  r.get('/enrichment/jobs/:id/deliveries', {
    schema: {
      ...common,
      summary: "Every delivery of a job's events, with its attempts",
      params: jobIdParams,
      response: { 200: z.object({ items: z.array(deliveryResponse) }), ...errors },
    },
  }, async (request) => {
    const items = await withTenant(pool, appRole, request.auth.tenantId, async (tx) => ((await getJob(tx, request.params.id)) ? jobDeliveries(tx, request.params.id) : null));
    if (!items) throw new AppError('not_found', 'No such job.');
    return { items };
  });
}
