// Request and response schemas of the job endpoints (they also generate the OpenAPI document).
import { z } from 'zod';
import { JOB_STATUSES } from '../../jobs/status.js';

export const jobIdParams = z.object({ id: z.guid({ message: 'must be a UUID' }) });

export const createJobBody = z.strictObject({
  type: z.string().min(1).max(100).describe('A registered job type (GET /openapi.json lists them).'),
  payload: z.record(z.string(), z.unknown()).default({}).describe("Checked against the type's payload schema."),
  priority: z.number().int().min(1).max(5).optional().describe("1 (highest) to 5; default the type's, 3 unless it says otherwise."),
  runAt: z.iso.datetime({ offset: true }).optional().describe('Run at this time (ISO 8601); a past time runs now.'),
  delayMs: z.number().int().min(0).max(365 * 24 * 3_600_000).optional().describe('Run after this many ms (not with runAt).'),
  maxAttempts: z.number().int().min(1).max(25).optional(),
  maxRetries: z.number().int().min(0).max(24).optional().describe('Accepted as maxAttempts = maxRetries + 1.'),
  timeoutMs: z.number().int().min(100).max(7 * 24 * 3_600_000).optional().describe("Per-attempt timeout; default the type's."),
  webhookUrl: z.url().max(2048).optional(),
  tags: z.array(z.string().max(64)).max(20).optional(),
});
export type CreateJobBody = z.infer<typeof createJobBody>;

export const legacyCreateJobBody = z.strictObject({
  list_id: z.guid({ message: 'must be a UUID' }),
  plan_id: z.guid({ message: 'must be a UUID' }),
  chunk_size: z.number().int().min(1).max(5000).optional(),
});

const jobError = z.object({ message: z.string(), code: z.string().optional(), at: z.string() });

export const jobResponse = z
  .object({
    id: z.uuid(),
    tenantId: z.uuid(),
    type: z.string(),
    status: z.enum(JOB_STATUSES),
    priority: z.number().int(),
    payload: z.record(z.string(), z.unknown()),
    tags: z.array(z.string()),
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    workerId: z.string().nullable(),
    progress: z.object({ total: z.number(), processed: z.number(), succeeded: z.number(), failed: z.number() }),
    result: z.record(z.string(), z.unknown()).nullable(),
    lastError: jobError.nullable(),
    webhookUrl: z.string().nullable(),
    runAt: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
  })
  .meta({ id: 'Job' });

export const errorResponse = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.array(z.unknown()),
    }),
  })
  .meta({ id: 'Error' });
