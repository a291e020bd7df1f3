// GET /v1/audit: the tenant's audit trail, newest first, paged by an opaque keyset cursor.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { decodeAuditCursor, listAudit } from '../../audit/listing.js';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { validationError } from '../../errors.js';
import { errorResponse } from '../schemas/job.js';

export interface AuditRoutesOptions {
  pool: Pool;
  appRole: string;
}

const auditItem = z
  .object({
    at: z.string().describe('when the call arrived (ISO 8601)'),
    sub: z.string().nullable().describe("the token's sub"),
    action: z.string().describe('resource.verb, e.g. job.create, job.cancel, list.create, webhook_endpoint.delete'),
    resource: z.string().describe('the resource type: job, list, plan, export, webhook_endpoint, webhook_secret, ...'),
    resourceId: z.string().nullable().describe('the resource acted on (from the path, or the created resource); null when none'),
    status: z.number().int().describe("the answer's HTTP status code"),
    requestId: z.string().describe('the x-request-id of the call'),
  })
  .meta({ id: 'AuditRecord' });

const isoTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()], { message: 'must be an ISO 8601 time or date' });

const auditQuery = z.object({
  from: isoTime.optional().describe('records at or after this time'),
  to: isoTime.optional().describe('records before this time'),
  action: z.string().regex(/^[a-z_]{1,40}(\.[a-z_]{1,40})?$/, 'must be an action such as job.cancel').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page (with the same filters)'),
});

/** Registers GET /audit (under /v1, any token of the tenant, as CONTRACT.md lists it: not an admin call). */
export async function auditRoutes(app: FastifyInstance, opts: AuditRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/audit', {
    schema: {
      tags: ['privacy'],
      summary: "The tenant's audit trail, newest first",
      description:
        'Every state-changing call made with one of the tenant\'s tokens: who (sub), what (action, resource, resourceId), the outcome (status), ' +
        'when and the request id. No bodies, query strings, tokens or secrets. Records are written just after the answer, so a call shows here ' +
        'within moments. Kept RETENTION_AUDIT_DAYS. nextCursor is null on the last page.',
      security: [{ bearerAuth: [] }],
      querystring: auditQuery,
      response: { 200: z.object({ items: z.array(auditItem), nextCursor: z.string().nullable() }), 400: errorResponse, 401: errorResponse },
    },
  }, async (request) => {
    const { from, to, action, limit, cursor } = request.query;
    const filter = { from: from === undefined ? null : new Date(from), to: to === undefined ? null : new Date(to), action: action ?? null };
    if (filter.from && filter.to && filter.from > filter.to) throw validationError([{ path: 'from', message: 'must not be after to' }]);
    const after = cursor === undefined ? null : decodeAuditCursor(cursor);
    return withTenant(opts.pool, opts.appRole, request.auth.tenantId, (tx) => listAudit(tx, request.auth.tenantId, filter, limit, after));
  });
}
