// list_enrichment: runs a plan over every entry of a list, in chunks.
import { z } from 'zod';
import { jobType } from './job-type.js';

export const listEnrichmentPayload = z.strictObject({
  listId: z.uuid(),
  planId: z.uuid(),
  chunkSize: z.number().int().min(1).max(5000).default(50),
});

export const listEnrichment = jobType({
  name: 'list_enrichment',
  description: 'Runs an enrichment plan over every entry of a list, chunk by chunk.',
  payloadSchema: listEnrichmentPayload,
  defaults: { timeoutMs: 24 * 3_600_000 },
  references: [
    { field: 'listId', table: 'lists' },
    { field: 'planId', table: 'enrichment_plans' },
  ],
});
