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
  // The job's own attempt only plans its chunks; the chunks run as tasks of their own.
  defaults: { timeoutMs: 10 * 60_000 },
  references: [
    { field: 'listId', table: 'lists' },
    { field: 'planId', table: 'enrichment_plans' },
  ],
});
