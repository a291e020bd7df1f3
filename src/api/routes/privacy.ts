// Erasure of one person (admin): POST /v1/privacy/erasures runs it at once, in batches, and
// answers with its record; GET /v1/privacy/erasures/:id reads the record. Neither the record
// nor any answer holds what was asked for: only which kinds of identifier, and counts.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { AppError, type ErrorDetail, validationError } from '../../errors.js';
import { runErasure } from '../../governance/erasure.js';
import * as sql from '../../governance/erasure-sql.js';
import { normalisePhone, subjectOf } from '../../governance/subject.js';
import type { SubjectMarks } from '../../governance/subject-marks.js';
import { requireAdmin } from '../auth.js';
import { errorResponse } from '../schemas/job.js';

export interface PrivacyRoutesOptions {
  pool: Pool;
  appRole: string;
  redis: Redis;
  prefix: string;
  marks: SubjectMarks;
}

const erasureBody = z.strictObject({
  email: z.string().trim().min(3).max(320).optional().describe('Matched case-insensitively, anywhere it is stored.'),
  phone: z.string().trim().min(1).max(64).optional().describe('Read as E.164 (a number without a country code is read as a US one); stored values match when their digits are the number\'s, with or without its country code.'),
  externalId: z.string().trim().min(1).max(256).optional().describe('The external_id column, matched exactly.'),
});

const erasureResponse = z
  .object({
    id: z.uuid(),
    status: z.enum(['pending', 'running', 'completed', 'failed']).describe('The job statuses; an erasure runs at once, so it answers completed (or failed).'),
    counts: z.record(z.string(), z.number().int()).optional().describe('Rows (or stream entries) removed or redacted per store, and marks added.'),
  })
  .meta({ id: 'Erasure' });

/** Registers POST /privacy/erasures and GET /privacy/erasures/:id (under /v1, authenticated, admin). */
export async function privacyRoutes(app: FastifyInstance, opts: PrivacyRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };

  r.post('/privacy/erasures', {
    schema: {
      tags: ['privacy'],
      summary: 'Erase one person (admin)',
      description:
        'Removes the entries about the person (with their results) and redacts every other mention in the tenant\'s stores: entries, step results, ' +
        'job payloads and results, event messages, webhook deliveries, the live event stream; deletes cache entries and export files that may hold them; ' +
        'and marks the person so no provider is asked about them again. At least one of email, phone, externalId.',
      security: [{ bearerAuth: [] }],
      body: erasureBody,
      response: { 202: erasureResponse, ...errors },
    },
  }, async (request, reply) => {
    requireAdmin(request.auth);
    const body = request.body;
    const problems: ErrorDetail[] = [];
    if (body.email === undefined && body.phone === undefined && body.externalId === undefined) {
      problems.push({ path: 'email', message: 'give at least one of email, phone, externalId' });
    }
    if (body.email !== undefined && !body.email.includes('@')) problems.push({ path: 'email', message: 'must be an email address' });
    if (body.phone !== undefined && normalisePhone(body.phone) === null) problems.push({ path: 'phone', message: 'must be a phone number' });
    if (problems.length > 0) throw validationError(problems);

    const { tenantId } = request.auth;
    const id = randomUUID();
    const kinds = (['email', 'phone', 'externalId'] as const).filter((k) => body[k] !== undefined);
    await withTenant(opts.pool, opts.appRole, tenantId, (tx) => tx.query(sql.INSERT_ERASURE, [id, tenantId, kinds]));
    let counts: Record<string, number>;
    try {
      counts = await runErasure({ pool: opts.pool, redis: opts.redis, prefix: opts.prefix, marks: opts.marks, tenantId, subject: subjectOf(body) });
    } catch (err) {
      await opts.pool.query(sql.FINISH_ERASURE, [id, 'failed', '{}']).catch(() => undefined);
      throw err;
    }
    await opts.pool.query(sql.FINISH_ERASURE, [id, 'completed', JSON.stringify(counts)]);
    request.log.info({ erasureId: id, tenantId, counts }, 'erasure completed');
    return reply.status(202).header('location', `/v1/privacy/erasures/${id}`).send({ id, status: 'completed' as const, counts });
  });

  r.get('/privacy/erasures/:id', {
    schema: {
      tags: ['privacy'],
      summary: 'Read an erasure (admin)',
      security: [{ bearerAuth: [] }],
      params: z.object({ id: z.guid({ message: 'must be a UUID' }) }),
      response: { 200: erasureResponse, ...errors },
    },
  }, async (request) => {
    requireAdmin(request.auth);
    const row = await withTenant(opts.pool, opts.appRole, request.auth.tenantId, async (tx) => {
      const { rows } = await tx.query<{ id: string; status: 'pending' | 'running' | 'completed' | 'failed'; counts: Record<string, number> }>(sql.GET_ERASURE, [request.params.id]);
      return rows[0] ?? null;
    });
    if (!row) throw new AppError('not_found', 'No such erasure.');
    return { id: row.id, status: row.status, counts: row.counts };
  });
}
