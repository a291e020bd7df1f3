// test_job's handler: sleep, then succeed or fail as the payload asks.
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import type { testJobPayload } from '../../jobs/types/test-job.js';
import type { JobContext } from './handler.js';

/** Runs a test_job attempt. */
export async function runTestJob(ctx: JobContext): Promise<Record<string, unknown>> {
  const p = ctx.payload as z.infer<typeof testJobPayload>;
  const sleepMs = p.sleepMs ?? 0;
  if (sleepMs > 0) await sleep(sleepMs, undefined, { signal: ctx.signal });
  if (p.fail === 'always' || (p.fail === 'once' && ctx.attempt === 1)) {
    throw new Error(`test_job failed on purpose (fail: ${p.fail}, attempt ${ctx.attempt})`);
  }
  return { ok: true, attempt: ctx.attempt, sleptMs: sleepMs };
}
