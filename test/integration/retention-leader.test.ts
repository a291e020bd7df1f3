// The leader runs the retention sweep on its own, every RETENTION_SWEEP_INTERVAL.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureTenant } from '../helpers/lists.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ workers: 0, env: { RETENTION_SWEEP_INTERVAL: '1000', RETENTION_JOBS_DAYS: '2', RETENTION_AUDIT_DAYS: '1' } });
});
afterAll(async () => {
  await sys?.close();
});

it('deletes old finished jobs and audit records, keeps the rest', async () => {
  const pool = sys.services.pool;
  const tenant = randomUUID();
  await ensureTenant(pool, tenant);
  const [oldJob, newJob] = [randomUUID(), randomUUID()];
  await pool.query(
    `INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, max_attempts, timeout_ms, created_at, completed_at)
     VALUES ($1, $3, 'test_job', 'completed', 3, 3, 60000, now() - interval '3 days', now() - interval '3 days'),
            ($2, $3, 'test_job', 'completed', 3, 3, 60000, now() - interval '1 day', now() - interval '1 day')`,
    [oldJob, newJob, tenant],
  );
  await pool.query(
    `INSERT INTO audit_log (tenant_id, at, sub, action, resource, status, request_id)
     VALUES ($1, now() - interval '2 days', 'u', 'job.create', 'job', 202, 'old'), ($1, now(), 'u', 'job.create', 'job', 202, 'new')`,
    [tenant],
  );
  await waitFor(async () => (await pool.query('SELECT 1 FROM enrichment_jobs WHERE id = $1', [oldJob])).rowCount === 0, 10_000);
  await waitFor(async () => (await pool.query("SELECT 1 FROM audit_log WHERE request_id = 'old'")).rowCount === 0, 10_000);
  expect((await pool.query('SELECT 1 FROM enrichment_jobs WHERE id = $1', [newJob])).rowCount).toBe(1);
  expect((await pool.query("SELECT 1 FROM audit_log WHERE request_id = 'new'")).rowCount).toBe(1);
});
