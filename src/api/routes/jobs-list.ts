// GET /jobs: the tenant's jobs, newest first, filtered and paged by an opaque keyset cursor.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { listJobs } from '../../jobs/listing.js';
import { JOB_STATUSES, type JobStatus } from '../../jobs/status.js';
import { decodeCreatedCursor } from '../../lists/cursor.js';
import { errorResponse, jobResponse } from '../schemas/job.js';

export interface JobListRoutesOptions {
  pool: Pool;
  appRole: string;
  hidden: boolean;
}

const isStatus = (s: string): s is JobStatus => (JOB_STATUSES as readonly string[]).includes(s);

// One status or a comma list; each must be a status, so a typo is a 400, not an empty page.
const statusList = z
  .string()
  .max(200)
  .transform((value, ctx) => {
    const parts = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const bad = parts.filter((s) => !isStatus(s));
    if (parts.length === 0 || bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `must be one or more of ${JOB_STATUSES.join(', ')}, comma-separated${bad.length > 0 ? ` (not ${bad.join(', ')})` : ''}` });
      return z.NEVER;
    }
    return [...new Set(parts.filter(isStatus))];
  });

const listQuery = z.object({
  status: statusList.optional().describe('one status or a comma list (any of them)'),
  type: z.string().min(1).max(100).optional(),
  tag: z.string().min(1).max(64).optional().describe('jobs carrying this tag'),
  q: z.string().min(1).max(200).optional().describe('case-insensitive text in the id, type, tags or last error message'),
  createdAfter: z.iso.datetime({ offset: true }).optional().describe('created at or after this time'),
  createdBefore: z.iso.datetime({ offset: true }).optional().describe('created before this time'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page (with the same filters)'),
});

const pageResponse = z.object({ items: z.array(jobResponse), nextCursor: z.string().nullable() });

/** Registers GET /jobs (a static path: GET /jobs/:id is another route). */
export async function jobListRoutes(app: FastifyInstance, opts: JobListRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pool, appRole, hidden } = opts;

  r.get('/jobs', {
    schema: {
      hide: hidden,
      tags: ['jobs'],
      summary: "Page the tenant's jobs, newest first",
      description: 'Filters combine (all must hold). nextCursor is null on the last page.',
      security: [{ bearerAuth: [] }],
      querystring: listQuery,
      response: { 200: pageResponse, 400: errorResponse, 401: errorResponse },
    },
  }, async (request) => {
    const { status, type, tag, q, createdAfter, createdBefore, limit, cursor } = request.query;
    const after = cursor !== undefined ? decodeCreatedCursor(cursor) : null;
    const filter = {
      statuses: status,
      type,
      tag,
      q,
      createdAfter: createdAfter !== undefined ? new Date(createdAfter) : undefined,
      createdBefore: createdBefore !== undefined ? new Date(createdBefore) : undefined,
    };
    return withTenant(pool, appRole, request.auth.tenantId, (tx) => listJobs(tx, filter, limit, after));
  });
}
