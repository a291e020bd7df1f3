// test_job: sleeps, fails on request, and echoes whatever else it is given.
import { z } from 'zod';
import { jobType } from './job-type.js';

export const testJobPayload = z.looseObject({
  sleepMs: z.number().int().min(0).max(3_600_000).optional(),
  fail: z.enum(['once', 'always']).optional(),
});

export const testJob = jobType({
  name: 'test_job',
  description: 'Sleeps sleepMs, then succeeds; fail "once" fails only the first attempt ever, "always" every attempt.',
  payloadSchema: testJobPayload,
  defaults: { timeoutMs: 60_000 },
});
