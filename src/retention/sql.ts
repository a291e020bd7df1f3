// The retention sweep's statements. Each DELETE removes at most one batch of rows, chosen
// through an index, so no statement holds its locks for long. Per-tenant selections walk the
// tenants and probe each one's (tenant_id, time) index (a loose index scan), so a sweep that
// finds nothing reads a few index pages per tenant, not the table. Jobs, deliveries and
// exports have a cutoff per tenant (its own shorter retention, tenant_retention); audit
// records and provider calls one for all (the operator's records).

export const FINISHED = ['completed', 'failed', 'cancelled'];

/**
 * The tenants, each with its cutoff `c.cutoff` for one kind of record: `now` ($1) less the
 * tenant's own days (tenant_retention's `column`) or the deployment's (`days`, a parameter),
 * whichever is fewer, so a tenant value set before the operator lowered RETENTION_* never
 * keeps data longer. Whole 24-hour days, like the deployment-wide cutoffs before it.
 */
function tenantsWithCutoff(column: 'jobs_days' | 'deliveries_days' | 'exports_days', days: string): string {
  return `
FROM tenants t
LEFT JOIN tenant_retention s ON s.tenant_id = t.id
CROSS JOIN LATERAL (
  SELECT $1::timestamptz - make_interval(hours => 24 * least(coalesce(s.${column}, ${days}::int), ${days}::int)) AS cutoff
) c`;
}

// Finished jobs completed before their tenant's cutoff ($1 now, $4 RETENTION_JOBS_DAYS), at
// most $2, through enrichment_jobs_finished_idx; each with its cutoff, checked again on delete.
export const OLD_JOBS = `
SELECT j.id, c.cutoff${tenantsWithCutoff('jobs_days', '$4')}
CROSS JOIN LATERAL (
  SELECT id FROM enrichment_jobs
  WHERE tenant_id = t.id AND completed_at < c.cutoff AND status = ANY($3::text[])
  LIMIT $2::int
) j
LIMIT $2::int`;

// The rows of a job batch ($1) in a child table, at most $2 per statement. entry_results has
// no foreign key (COPY-sized writes), so it must go before its jobs; the others cascade, but
// a list job can have tens of thousands of chunks, deliveries or export parts, which one
// cascading DELETE would remove in a single statement.
export const JOB_CHILDREN: { table: string; sql: string }[] = [
  ['entry_results', 'job_id'],
  ['list_job_chunks', 'job_id'],
  ['webhook_deliveries', 'job_id'],
  ['enrichment_job_events', 'job_id'],
  ['export_parts', 'export_id'],
].map(([table, column]) => ({
  table: table!,
  sql: `
DELETE FROM ${table!} WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM ${table!} WHERE ${column!} = ANY($1::uuid[]) LIMIT $2::int
)) AND ${column!} = ANY($1::uuid[])`,
}));

// The jobs themselves, checked again: a job retried meanwhile is unfinished and stays.
// What is left of their children (search rows, export rows) cascades.
// $1 the job ids, $2 their cutoffs (as OLD_JOBS found them), $3 the finished statuses.
export const DELETE_JOBS = `
DELETE FROM enrichment_jobs j
USING unnest($1::uuid[], $2::timestamptz[]) AS c(id, cutoff)
WHERE j.id = c.id AND j.completed_at < c.cutoff AND j.status = ANY($3::text[])`;

// Finished exports requested before their tenant's cutoff ($1 now, $4 RETENTION_EXPORTS_DAYS),
// through exports_tenant_created_idx.
export const OLD_EXPORTS = `
SELECT e.id${tenantsWithCutoff('exports_days', '$4')}
CROSS JOIN LATERAL (
  SELECT id FROM exports WHERE tenant_id = t.id AND created_at < c.cutoff LIMIT $2::int
) e
JOIN enrichment_jobs j ON j.id = e.id AND j.status = ANY($3::text[])
LIMIT $2::int`;

export const EXPORT_PARTS = `
DELETE FROM export_parts WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM export_parts WHERE export_id = ANY($1::uuid[]) LIMIT $2::int
)) AND export_id = ANY($1::uuid[])`;

export const DELETE_EXPORTS = 'DELETE FROM exports WHERE id = ANY($1::uuid[])';

// Finished deliveries created before their tenant's cutoff ($1 now, $2 RETENTION_DELIVERIES_DAYS),
// at most $3, through webhook_deliveries_tenant_idx (attempts cascade: a few per delivery).
export const OLD_DELIVERIES = `
DELETE FROM webhook_deliveries WHERE id = ANY(ARRAY(
  SELECT d.id${tenantsWithCutoff('deliveries_days', '$2')}
  CROSS JOIN LATERAL (
    SELECT id FROM webhook_deliveries
    WHERE tenant_id = t.id AND created_at < c.cutoff AND status <> 'pending'
    LIMIT $3::int
  ) d
  LIMIT $3::int
)) AND status <> 'pending'`;

// Provider calls (usage, credits) before the cutoff, through provider_calls_tenant_at.
export const OLD_PROVIDER_CALLS = `
DELETE FROM provider_calls WHERE id = ANY(ARRAY(
  SELECT c.id
  FROM tenants t
  CROSS JOIN LATERAL (
    SELECT id FROM provider_calls WHERE tenant_id = t.id AND at < $1::timestamptz LIMIT $2::int
  ) c
  LIMIT $2::int
))`;

// Audit records before the cutoff, through audit_log_tenant_at_idx.
export const OLD_AUDIT = `
DELETE FROM audit_log WHERE id = ANY(ARRAY(
  SELECT a.id
  FROM tenants t
  CROSS JOIN LATERAL (
    SELECT id FROM audit_log WHERE tenant_id = t.id AND at < $1::timestamptz LIMIT $2::int
  ) a
  LIMIT $2::int
))`;

// Cache rows expired before the cutoff (an hour past their expiry: a late webhook answer or
// a slow claimant still finds its row). No index on expires_at (it would cost every cache
// write a non-HOT update): the scan stops at the batch's last row, and reads the table once
// per sweep when few rows have expired. The condition is checked again on the row deleted.
export const EXPIRED_CACHE = `
DELETE FROM provider_cache WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM provider_cache WHERE expires_at < $1::timestamptz LIMIT $2::int
)) AND expires_at < $1::timestamptz`;
