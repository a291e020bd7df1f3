// GET /v1/retention (any token of the tenant) and PUT /v1/retention (admin): how long the
// tenant's finished jobs, deliveries and exports are kept. A tenant may only shorten the
// deployment's RETENTION_* values (a privacy choice: keep less), never lengthen them, since
// the operator sized storage for them; audit records and provider calls stay the operator's.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RetentionConfig } from '../../config.js';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { changeTenantRetention, deploymentDays, readTenantRetention } from '../../retention/tenant-settings.js';
import { requireAdmin } from '../auth.js';
import { errorResponse } from '../schemas/job.js';

export interface RetentionRoutesOptions {
  pool: Pool;
  appRole: string;
  retention: Pick<RetentionConfig, 'jobsDays' | 'deliveriesDays' | 'exportsDays' | 'auditDays' | 'providerCallsDays'>;
}

const allDays = z.object({
  jobsDays: z.number().int().describe('finished jobs, by completion, with their events, entry results, chunks, deliveries and exports'),
  deliveriesDays: z.number().int().describe('finished webhook deliveries and their attempts, by creation'),
  exportsDays: z.number().int().describe('export files, by request (the export job stays as long as jobs do)'),
  auditDays: z.number().int().describe('audit records: the deployment\'s RETENTION_AUDIT_DAYS, not per tenant'),
  providerCallsDays: z.number().int().describe('provider call records (usage, credits): the deployment\'s RETENTION_PROVIDER_CALLS_DAYS, not per tenant'),
});

const retentionResponse = z
  .object({
    effective: allDays.describe('days kept for this tenant now: its own value where it has one, else the deployment\'s'),
    overrides: z
      .object({ jobsDays: z.number().int().nullable(), deliveriesDays: z.number().int().nullable(), exportsDays: z.number().int().nullable() })
      .describe('the tenant\'s own values; null keeps the deployment\'s'),
    deployment: allDays.describe('the deployment\'s RETENTION_* values, the most a tenant may set'),
    updatedAt: z.string().nullable().describe('when the tenant last changed its values (ISO 8601); null if never'),
  })
  .meta({ id: 'Retention' });

/** A tenant's days for one kind: a whole number from 1 to the deployment's value, or null to clear. */
function daysField(max: number, variable: string) {
  const message = `must be a whole number of days from 1 to ${max} (${variable}), or null`;
  return z.number({ message }).int({ message }).min(1, { message }).max(max, { message }).nullable().optional();
}

/** Registers GET and PUT /retention (under /v1, authenticated). */
export async function retentionRoutes(app: FastifyInstance, opts: RetentionRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const deployment = deploymentDays(opts.retention);
  const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse };

  r.get('/retention', {
    schema: {
      tags: ['privacy'],
      summary: "The tenant's data retention",
      description: 'How many days each kind of finished record is kept for this tenant, which values are its own, and the deployment\'s. The leader\'s sweep removes what is older.',
      security: [{ bearerAuth: [] }],
      response: { 200: retentionResponse, 401: errorResponse },
    },
  }, async (request) =>
    withTenant(opts.pool, opts.appRole, request.auth.tenantId, (tx) => readTenantRetention(tx, request.auth.tenantId, deployment)));

  r.put('/retention', {
    schema: {
      tags: ['privacy'],
      summary: "Shorten the tenant's data retention (admin)",
      description:
        'Sets the tenant\'s own days for finished jobs, webhook deliveries and exports: each a whole number from 1 to the deployment\'s value ' +
        '(a tenant may keep its data less long, never longer), or null to go back to the deployment\'s. An absent field is left as it is. ' +
        'Audit records and provider calls are the operator\'s records and keep the deployment\'s retention. Takes effect at the next sweep.',
      security: [{ bearerAuth: [] }],
      body: z.strictObject({
        jobsDays: daysField(deployment.jobsDays, 'RETENTION_JOBS_DAYS'),
        deliveriesDays: daysField(deployment.deliveriesDays, 'RETENTION_DELIVERIES_DAYS'),
        exportsDays: daysField(deployment.exportsDays, 'RETENTION_EXPORTS_DAYS'),
      }),
      response: { 200: retentionResponse, ...errors },
    },
    // Before the body is validated: a member's token gets 403 whatever it sent.
    preValidation: async (request) => requireAdmin(request.auth),
  }, async (request) =>
    withTenant(opts.pool, opts.appRole, request.auth.tenantId, (tx) => changeTenantRetention(tx, request.auth.tenantId, request.body, deployment)));
}
