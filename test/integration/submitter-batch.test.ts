// One row the database refuses fails only its own submit, never the rest of its batch.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NewJob } from '../../src/jobs/repository.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

let sys: TestSystem;

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0, api: true });
});
afterAll(async () => {
  await sys?.close();
});

const job = (priority: number): NewJob => ({
  id: randomUUID(),
  type: 'test_job',
  status: 'pending',
  priority,
  payload: {},
  tags: [],
  maxAttempts: 3,
  timeoutMs: 1000,
  webhookUrl: null,
  runAt: null,
  idempotencyKey: null,
  requestHash: null,
});

it('records the good jobs of a batch that holds one the database refuses', async () => {
  const tenantId = randomUUID();
  await sys.services.pool.query('INSERT INTO tenants (id) VALUES ($1::uuid)', [tenantId]);
  // Submitted in the same tick, so they share one batch; priority 9 breaks the CHECK constraint.
  const jobs = [job(1), job(9), job(3), job(5)];
  const results = await Promise.allSettled(jobs.map((j) => sys.services.submitter.submit(tenantId, j)));
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  const { rows } = await sys.services.pool.query<{ id: string }>('SELECT id FROM enrichment_jobs WHERE tenant_id = $1::uuid ORDER BY priority', [tenantId]);
  expect(rows.map((r) => r.id)).toEqual([jobs[0]!.id, jobs[2]!.id, jobs[3]!.id]);
});
