// A tenant's own, shorter retention: GET /v1/retention shows what is in force, PUT (admin)
// shortens jobs, deliveries and exports within 1..the deployment's RETENTION_* value, null
// goes back to it. The sweep (called directly, with the clock moved forward) removes that
// tenant's rows past its own days while another tenant's rows of the same age stay.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '../../src/db/pool.js';
import { RetentionSweep } from '../../src/retention/sweep.js';
import { ensureTenant } from '../helpers/lists.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

const DAY = 86_400_000;
// The deployment's values for this file; the leader (and its own sweep) is off.
const ENV = { RETENTION_JOBS_DAYS: '30', RETENTION_DELIVERIES_DAYS: '30', RETENTION_EXPORTS_DAYS: '20', RETENTION_AUDIT_DAYS: '365', RETENTION_PROVIDER_CALLS_DAYS: '400' };

let sys: TestSystem;
let pool: Pool;
const tenantA = randomUUID(); // shortens its retention
const tenantB = randomUUID(); // keeps the deployment's
let adminA: string;
let memberA: string;
let adminB: string;

interface RetentionBody {
  effective: Record<string, number>;
  overrides: Record<string, number | null>;
  deployment: Record<string, number>;
  updatedAt: string | null;
}
interface ErrorBody {
  error: { code: string; details: { path: string; message: string }[] };
}

async function call<T>(method: 'GET' | 'PUT', token: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await sys.app.inject({
    method,
    url: '/v1/retention',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: res.json() as T };
}

/**
 * A job created (and, when finished, completed) `daysAgo`, with events, entry results, chunks,
 * 2 deliveries and an export of the same age; an unfinished job's deliveries are pending.
 */
async function seedJob(tenantId: string, daysAgo: number, status = 'completed'): Promise<string> {
  const id = randomUUID();
  const at = new Date(Date.now() - daysAgo * DAY);
  await pool.query(
    `INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, max_attempts, timeout_ms, created_at, completed_at)
     VALUES ($1, $2, 'export', $3, 3, 3, 60000, $4, CASE WHEN $3 IN ('completed', 'failed', 'cancelled') THEN $4::timestamptz END)`,
    [id, tenantId, status, at],
  );
  const listId = randomUUID();
  await pool.query(`INSERT INTO enrichment_job_events (job_id, tenant_id, to_status, at) SELECT $1, $2, 'running', $3 FROM generate_series(1, 3)`, [id, tenantId, at]);
  await pool.query(`INSERT INTO entry_results (entry_id, job_id, tenant_id, list_id, results, outcomes) SELECT g, $1, $2, $3, '{}', '{}' FROM generate_series(1, 3) g`, [id, tenantId, listId]);
  await pool.query(
    `INSERT INTO list_job_chunks (job_id, seq, tenant_id, list_id, first_entry_id, last_entry_id, entry_count, state)
     SELECT $1, g, $2, $3, g, g, 1, 'done' FROM generate_series(1, 3) g`,
    [id, tenantId, listId],
  );
  await pool.query(
    `INSERT INTO webhook_deliveries (tenant_id, job_id, url, event_type, payload, status, created_at)
     SELECT $1, $2, 'https://example.com/hook', 'job.completed', '{}', $3, $4 FROM generate_series(1, 2)`,
    [tenantId, id, status === 'completed' ? 'delivered' : 'pending', at],
  );
  await pool.query('INSERT INTO exports (id, tenant_id, list_id, format, created_at) VALUES ($1, $2, $3, $4, $5)', [id, tenantId, listId, 'csv', at]);
  await pool.query(`INSERT INTO export_parts (export_id, part, tenant_id, data) SELECT $1, g, $2, '\\x00' FROM generate_series(1, 2) g`, [id, tenantId]);
  return id;
}

/** Rows of a job in each table the sweep prunes. */
async function rowsOf(jobId: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM enrichment_jobs WHERE id = $1) AS jobs,
            (SELECT count(*)::int FROM enrichment_job_events WHERE job_id = $1) AS events,
            (SELECT count(*)::int FROM entry_results WHERE job_id = $1) AS results,
            (SELECT count(*)::int FROM list_job_chunks WHERE job_id = $1) AS chunks,
            (SELECT count(*)::int FROM webhook_deliveries WHERE job_id = $1) AS deliveries,
            (SELECT count(*)::int FROM exports WHERE id = $1) AS exports,
            (SELECT count(*)::int FROM export_parts WHERE export_id = $1) AS parts`,
    [jobId],
  );
  return rows[0]!;
}

const WHOLE = { jobs: 1, events: 3, results: 3, chunks: 3, deliveries: 2, exports: 1, parts: 2 };

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0, leader: false, env: ENV });
  pool = sys.services.pool;
  adminA = await sys.token({ tenantId: tenantA, roles: ['admin'] });
  memberA = await sys.token({ tenantId: tenantA });
  adminB = await sys.token({ tenantId: tenantB, roles: ['admin'] });
}, 60_000);
afterAll(async () => {
  await sys?.close();
});

describe('GET and PUT /v1/retention', () => {
  it('shows the deployment values to a tenant without its own', async () => {
    const res = await call<RetentionBody>('GET', memberA);
    expect(res.status).toBe(200);
    const deployment = { jobsDays: 30, deliveriesDays: 30, exportsDays: 20, auditDays: 365, providerCallsDays: 400 };
    expect(res.body).toEqual({ effective: deployment, overrides: { jobsDays: null, deliveriesDays: null, exportsDays: null }, deployment, updatedAt: null });
  });

  it('refuses values outside 1..the deployment value, naming the field, and non-admin tokens', async () => {
    const bad: [unknown, string][] = [
      [{ jobsDays: 0 }, 'jobsDays'],
      [{ jobsDays: 31 }, 'jobsDays'], // over RETENTION_JOBS_DAYS: a tenant may only shorten
      [{ exportsDays: 2.5 }, 'exportsDays'],
      [{ deliveriesDays: '5' }, 'deliveriesDays'],
      [{ deliveriesDays: -1 }, 'deliveriesDays'],
      [{ auditDays: 10 }, 'auditDays'], // the operator's records: not per tenant
    ];
    for (const [body, path] of bad) {
      const res = await call<ErrorBody>('PUT', adminA, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.details.map((d) => d.path)).toEqual([path]);
    }
    expect((await call<ErrorBody>('PUT', adminA, { jobsDays: 31 })).body.error.details[0]!.message).toContain('RETENTION_JOBS_DAYS');
    const member = await call<ErrorBody>('PUT', memberA, { jobsDays: 5 });
    expect(member.status).toBe(403);
    expect(member.body.error.code).toBe('forbidden');
    expect((await call<RetentionBody>('GET', memberA)).body.overrides).toEqual({ jobsDays: null, deliveriesDays: null, exportsDays: null });
  });

  it('sets, keeps absent fields, clears with null, and is the tenant\'s alone', async () => {
    const set = await call<RetentionBody>('PUT', adminA, { jobsDays: 5, deliveriesDays: 3, exportsDays: 2 });
    expect(set.status).toBe(200);
    expect(set.body.overrides).toEqual({ jobsDays: 5, deliveriesDays: 3, exportsDays: 2 });
    expect(set.body.effective).toEqual({ jobsDays: 5, deliveriesDays: 3, exportsDays: 2, auditDays: 365, providerCallsDays: 400 });
    expect(set.body.updatedAt).not.toBeNull();

    // null clears one kind; the others stay as they were
    const cleared = await call<RetentionBody>('PUT', adminA, { deliveriesDays: null });
    expect(cleared.body.overrides).toEqual({ jobsDays: 5, deliveriesDays: null, exportsDays: 2 });
    expect(cleared.body.effective.deliveriesDays).toBe(30);
    const again = await call<RetentionBody>('PUT', adminA, { deliveriesDays: 3 });
    expect(again.body.overrides).toEqual({ jobsDays: 5, deliveriesDays: 3, exportsDays: 2 });

    // any token of the tenant reads it; another tenant sees none of it
    expect((await call<RetentionBody>('GET', memberA)).body.effective).toMatchObject({ jobsDays: 5, deliveriesDays: 3, exportsDays: 2 });
    expect((await call<RetentionBody>('GET', adminB)).body.overrides).toEqual({ jobsDays: null, deliveriesDays: null, exportsDays: null });

    // the change is in the audit trail
    await waitFor(async () => (await pool.query("SELECT 1 FROM audit_log WHERE tenant_id = $1 AND action = 'retention.update' AND status = 200", [tenantA])).rowCount === 3);
  });
});

describe('the sweep with per-tenant retention', () => {
  it("removes a tenant's rows past its own days, and keeps another tenant's of the same age", async () => {
    await ensureTenant(pool, tenantB);
    const jobA = await seedJob(tenantA, 1);
    const jobB = await seedJob(tenantB, 1);
    const unfinishedA = await seedJob(tenantA, 90, 'running');
    const sweep = new RetentionSweep({ pool, retention: { ...sys.config.retention, batchSize: 2 } });

    // now: nothing is due for anyone
    expect((await sweep.run()).deleted).toEqual({});

    // 2.5 days on (rows 3.5 days old): A's exports (2 days) and deliveries (3) go, its job (5) stays
    const first = await sweep.run(new Date(Date.now() + 2.5 * DAY));
    expect(first.deleted).toEqual({ webhook_deliveries: 2, export_parts: 2, exports: 1 });
    expect(await rowsOf(jobA)).toEqual({ ...WHOLE, deliveries: 0, exports: 0, parts: 0 });
    expect(await rowsOf(jobB)).toEqual(WHOLE);

    // 10 days on: A's job goes with everything that hangs on it; B's (30 days) stays whole
    const second = await sweep.run(new Date(Date.now() + 10 * DAY));
    expect(second.deleted.enrichment_jobs).toBe(1);
    expect(await rowsOf(jobA)).toEqual({ jobs: 0, events: 0, results: 0, chunks: 0, deliveries: 0, exports: 0, parts: 0 });
    expect(await rowsOf(jobB)).toEqual(WHOLE);
    expect(await rowsOf(unfinishedA)).toEqual(WHOLE);

    // past the deployment's days, B's go too (its export at 20 days, the rest at 30)
    await sweep.run(new Date(Date.now() + 25 * DAY));
    expect(await rowsOf(jobB)).toEqual({ ...WHOLE, exports: 0, parts: 0 });
    await sweep.run(new Date(Date.now() + 31 * DAY));
    expect(await rowsOf(jobB)).toEqual({ jobs: 0, events: 0, results: 0, chunks: 0, deliveries: 0, exports: 0, parts: 0 });
    expect(await rowsOf(unfinishedA)).toEqual(WHOLE);
  });

  it('never keeps longer than the deployment, also when the operator lowered it after a tenant set its days', async () => {
    // As if RETENTION_JOBS_DAYS was 60 when tenant C chose 50, and is 30 now.
    const tenantC = randomUUID();
    await ensureTenant(pool, tenantC);
    await pool.query('INSERT INTO tenant_retention (tenant_id, jobs_days, deliveries_days, exports_days) VALUES ($1, 50, 50, 50)', [tenantC]);
    const old = await seedJob(tenantC, 40);
    const kept = await seedJob(tenantC, 10);
    const adminC = await sys.token({ tenantId: tenantC, roles: ['admin'] });
    expect((await call<RetentionBody>('GET', adminC)).body.effective).toMatchObject({ jobsDays: 30, deliveriesDays: 30, exportsDays: 20 });

    await new RetentionSweep({ pool, retention: sys.config.retention }).run();
    expect((await rowsOf(old)).jobs).toBe(0);
    expect((await rowsOf(kept)).jobs).toBe(1);
  });
});
