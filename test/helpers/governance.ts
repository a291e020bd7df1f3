// Governance tests' helpers: a tenant with some of everything, made through the API, and the
// tenant's rows in every table that has a tenant_id column.
import type { FastifyInstance } from 'fastify';
import type { Pool } from '../../src/db/pool.js';
import type { Job } from '../../src/jobs/job.js';
import { getJson, postJson } from './api.js';
import { waitFor } from './system.js';

export const LOCAL_PLAN_STEPS = [{ type: 'rpc_score' }, { type: 'email_validation' }, { type: 'phone_normalization' }, { type: 'company_domain' }];

/** What seedTenant made. */
export interface SeededTenant {
  listIds: string[];
  planId: string;
  jobIds: string[];
  exportIds: string[];
  endpointId: string;
}

/** Waits for a job to finish; returns it. */
export async function waitForJob(app: FastifyInstance, token: string, id: string, timeoutMs = 30_000): Promise<Job> {
  return waitFor(async () => {
    const res = await getJson(app, `/v1/enrichment/jobs/${id}`, token);
    return ['completed', 'failed', 'cancelled'].includes(res.body.status) ? res.body : null;
  }, timeoutMs, 50);
}

/** A tenant with lists, a plan, an enrichment job with results, exports, a webhook endpoint and its secret, and a scheduled job. */
export async function seedTenant(app: FastifyInstance, token: string, lists: Record<string, string>[][]): Promise<SeededTenant> {
  const listIds: string[] = [];
  const jobIds: string[] = [];
  const exportIds: string[] = [];
  const endpoint = await postJson<{ id: string }>(app, '/v1/webhooks/endpoints', token, { url: 'http://127.0.0.1:9/hook' });
  if (endpoint.status !== 201) throw new Error(`endpoint: ${endpoint.status}`);
  await getJson(app, '/v1/webhooks/secret', token);
  const plan = await postJson<{ id: string }>(app, '/v1/enrichment/plans', token, { name: 'local', steps: LOCAL_PLAN_STEPS });
  if (plan.status !== 201) throw new Error(`plan: ${plan.status} ${JSON.stringify(plan.body)}`);
  for (const [i, entries] of lists.entries()) {
    const list = await postJson<{ id: string }>(app, '/v1/lists', token, { name: `list ${i}`, entries });
    if (list.status !== 201) throw new Error(`list: ${list.status} ${JSON.stringify(list.body)}`);
    listIds.push(list.body.id);
    const job = await postJson(app, '/v1/enrichment/jobs', token, { type: 'list_enrichment', payload: { listId: list.body.id, planId: plan.body.id, chunkSize: 2 } }, { 'idempotency-key': `seed-${i}` });
    jobIds.push(job.body.id);
    const done = await waitForJob(app, token, job.body.id);
    if (done.status !== 'completed') throw new Error(`list job ${done.status}`);
    const exp = await postJson<{ id: string }>(app, '/v1/exports', token, { listId: list.body.id, format: 'csv' });
    exportIds.push(exp.body.id);
    await waitForJob(app, token, exp.body.id);
  }
  const lead = await postJson(app, '/v1/enrichment/jobs', token, { type: 'single_lead_enrichment', payload: { lead: lists[0]![0], steps: LOCAL_PLAN_STEPS } });
  jobIds.push(lead.body.id);
  await waitForJob(app, token, lead.body.id);
  const later = await postJson(app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: {}, delayMs: 3_600_000 });
  jobIds.push(later.body.id);
  return { listIds, planId: plan.body.id, jobIds, exportIds, endpointId: endpoint.body.id };
}

/** Every table with a tenant_id column (found, not listed, so a new table cannot be forgotten). */
export async function tenantTables(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.table_name AS name FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE' ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

/** The tenant's row count in every tenant table, plus the scope-keyed shared tables. */
export async function tenantCounts(pool: Pool, tenantId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of await tenantTables(pool)) {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t} WHERE tenant_id = $1::uuid`, [tenantId]);
    out[t] = rows[0]!.n;
  }
  for (const t of ['provider_cache', 'privacy_marks']) {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t} WHERE scope = $1::text`, [tenantId]);
    out[`${t} (scope)`] = rows[0]!.n;
  }
  return out;
}

/** Puts a cache entry of the tenant's scope and a provider call record in place, as a paid lookup leaves them. */
export async function seedProviderRows(pool: Pool, tenantId: string, jobId: string, email: string): Promise<void> {
  await pool.query(
    `INSERT INTO provider_cache (scope, provider, endpoint, input_key, want, state, value, paid_by, job_id, entry_key, expires_at)
     VALUES ($1::text, 'hunter', 'email-finder', $2::text, 'email', 'hit', $3::text, $1::uuid, $4::uuid, '1', now() + interval '30 days')`,
    [tenantId, JSON.stringify([['w', 'email'], ['e', email]]), email, jobId],
  );
  await pool.query(
    `INSERT INTO provider_calls (tenant_id, job_id, entry_key, provider, endpoint, kind, outcome, credits)
     VALUES ($1::uuid, $2::uuid, '1', 'hunter', 'email-finder', 'call', 'hit', 1)`,
    [tenantId, jobId],
  );
}
