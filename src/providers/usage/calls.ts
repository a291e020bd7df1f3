// Provider attempt records (provider_calls): every call made, every answer served from the cache,
// every answer delivered by webhook; credits and usage are counted from them.
import type { Pool } from '../../db/pool.js';
import { type Tx, withTenant } from '../../db/transaction.js';

export interface CallRecord {
  tenantId: string;
  jobId: string | null;
  entryKey: string | null;
  provider: string;
  endpoint: string;
  kind: 'call' | 'cache_hit' | 'webhook';
  outcome: string;
  credits: number;
  latencyMs: number;
}

// Cache hits are counted once per job, entry and endpoint: a chunk run again after a deferral
// reads the answers of its first run from the cache without counting them twice.
const INSERT_CALLS = `
INSERT INTO provider_calls (tenant_id, job_id, entry_key, provider, endpoint, kind, outcome, credits, latency_ms)
SELECT r.t, r.j, r.e, r.p, r.ep, r.k, r.o, r.c, r.l
FROM json_to_recordset($1::json) AS r(t uuid, j uuid, e text, p text, ep text, k text, o text, c numeric, l int)
ON CONFLICT DO NOTHING`;

/** Writes attempt records of one tenant in one statement. */
export async function recordCalls(pool: Pool, appRole: string, records: readonly CallRecord[]): Promise<void> {
  if (records.length === 0) return;
  const byTenant = new Map<string, CallRecord[]>();
  for (const r of records) (byTenant.get(r.tenantId) ?? byTenant.set(r.tenantId, []).get(r.tenantId)!).push(r);
  for (const [tenantId, rs] of byTenant) {
    const json = JSON.stringify(rs.map((r) => ({ t: r.tenantId, j: r.jobId, e: r.entryKey, p: r.provider, ep: r.endpoint, k: r.kind, o: r.outcome, c: r.credits, l: Math.round(r.latencyMs) })));
    await withTenant(pool, appRole, tenantId, (tx) => tx.query(INSERT_CALLS, [json]));
  }
}

export interface UsageItem {
  provider: string;
  calls: number;
  cacheHits: number;
  credits: number;
}

const USAGE = `
SELECT provider,
  count(*) FILTER (WHERE kind = 'call')::int AS calls,
  count(*) FILTER (WHERE kind = 'cache_hit')::int AS "cacheHits",
  COALESCE(sum(credits), 0)::float8 AS credits
FROM provider_calls
WHERE ($1::timestamptz IS NULL OR at >= $1::timestamptz) AND ($2::timestamptz IS NULL OR at < $2::timestamptz)
GROUP BY provider ORDER BY provider`;

/** The tenant's usage per provider in [from, to) (row-level security keeps it to the tenant). */
export async function usageOf(tx: Tx, from: Date | null, to: Date | null): Promise<UsageItem[]> {
  return (await tx.query<UsageItem>(USAGE, [from, to])).rows;
}

const SPENT = `
SELECT
  COALESCE(sum(credits) FILTER (WHERE $1::uuid IS NOT NULL AND job_id = $1::uuid), 0)::float8 AS job,
  COALESCE(sum(credits) FILTER (WHERE at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), 0)::float8 AS tenant
FROM provider_calls
WHERE (job_id = $1::uuid OR ($2::bool AND at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'))`;

/** Credits spent so far by a job, and by its tenant this calendar month (UTC). */
export async function creditsSpent(pool: Pool, appRole: string, tenantId: string, jobId: string | null, withTenantTotal: boolean): Promise<{ job: number; tenant: number }> {
  const { rows } = await withTenant(pool, appRole, tenantId, (tx) => tx.query<{ job: number; tenant: number }>(SPENT, [jobId, withTenantTotal]));
  return rows[0] ?? { job: 0, tenant: 0 };
}
