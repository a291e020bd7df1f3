// GET /v1/usage: the tenant's provider calls, cache hits and credits per provider.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { validationError } from '../../errors.js';
import { usageOf } from '../../providers/usage/calls.js';
import { errorResponse } from '../schemas/job.js';

export interface UsageRoutesOptions {
  pool: Pool;
  appRole: string;
}

const usageItem = z
  .object({
    provider: z.string(),
    calls: z.number().int().describe('calls made to the provider (throttled and failed ones included)'),
    cacheHits: z.number().int().describe('answers served from the cache: no call, no credit'),
    credits: z.number().describe('as the provider bills (per hit where it bills per hit)'),
  })
  .meta({ id: 'ProviderUsage' });

const isoTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()], { message: 'must be an ISO 8601 time or date' });

/** Registers GET /usage (under /v1, authenticated). */
export async function usageRoutes(app: FastifyInstance, opts: UsageRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/usage', {
    schema: {
      tags: ['providers'],
      summary: "The tenant's provider usage",
      description: 'Calls, cache hits and credits per provider, from `from` (inclusive) to `to` (exclusive); both optional.',
      security: [{ bearerAuth: [] }],
      querystring: z.object({ from: isoTime.optional(), to: isoTime.optional() }),
      response: { 200: z.object({ items: z.array(usageItem) }), 400: errorResponse, 401: errorResponse },
    },
  }, async (request) => {
    const from = request.query.from === undefined ? null : new Date(request.query.from);
    const to = request.query.to === undefined ? null : new Date(request.query.to);
    if (from && to && from > to) throw validationError([{ path: 'from', message: 'must not be after to' }]);
    const items = await withTenant(opts.pool, opts.appRole, request.auth.tenantId, (tx) => usageOf(tx, from, to));
    return { items };
  });
}
