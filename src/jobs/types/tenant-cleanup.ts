// tenant_cleanup (admin): removes everything the tenant holds but the cleanup job, its history and the audit trail.
import { z } from 'zod';
import { jobType } from './job-type.js';

export const tenantCleanupPayload = z.strictObject({});

export const tenantCleanupJob = jobType({
  name: 'tenant_cleanup',
  description:
    "Deletes every row the tenant owns (jobs, events, lists, entries, results, exports and their files, plans, webhook endpoints and deliveries, " +
    'its provider cache entries and usage), its Redis keys and queued tasks, in short batches; resumes after a crash. ' +
    'Result: {tables: {table: rows removed}}. The cleanup job itself, its history and the audit trail stay. Admin only.',
  payloadSchema: tenantCleanupPayload,
  adminOnly: true,
  // Every attempt continues where the last stopped; one job runs at the tenant's top priority.
  defaults: { timeoutMs: 3_600_000, maxAttempts: 5, priority: 1 },
});
