// tenant_export (admin): everything the tenant holds, as one downloadable tar.gz archive.
import { z } from 'zod';
import { jobType } from './job-type.js';

export const tenantExportPayload = z.strictObject({});

export const tenantExportJob = jobType({
  name: 'tenant_export',
  description:
    'Writes everything the tenant holds (jobs, events, lists, entries with their enrichment, results, plans, exports, webhook endpoints ' +
    'without secrets, deliveries, usage, erasures, audit trail) as one tar.gz archive of JSONL and CSV files with a manifest.json. ' +
    'Result {exportId}: read and download it at /v1/exports/:id. Admin only.',
  payloadSchema: tenantExportPayload,
  adminOnly: true,
  defaults: { timeoutMs: 3_600_000 },
});
