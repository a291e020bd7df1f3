// export: writes a list's entries with their enrichment as a CSV or JSONL file (GET /v1/exports/:id/download).
import { z } from 'zod';
import { jobType } from './job-type.js';

export const exportPayload = z.strictObject({
  listId: z.uuid().describe('The list to export.'),
  format: z.enum(['csv', 'jsonl']).describe('csv: uploaded columns, then <step>.<field> columns; jsonl: one {id, data, enrichment} object a line.'),
});

export const exportJob = jobType({
  name: 'export',
  description: "Writes a list's entries and their latest enrichment as a CSV or JSONL file, kept in parts of about 1 MiB.",
  payloadSchema: exportPayload,
  defaults: { timeoutMs: 3_600_000 },
  references: [{ field: 'listId', table: 'lists' }],
});
