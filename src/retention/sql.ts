// The retention sweep's statements. Each DELETE removes at most $2 rows (the batch), chosen
// through an index, so no statement holds its locks for long. Per-tenant selections walk the
// tenants and probe each one's (tenant_id, time) index (a loose index scan), so a sweep that
// finds nothing reads a few index pages per tenant, not the table.

export const FINISHED = ['completed', 'failed', 'cancelled'];

// Finished jobs completed before the cutoff ($1), at most $2, through enrichment_jobs_finished_idx.
export const OLD_JOBS = `
SELECT j.id
FROM tenants t
CROSS JOIN LATERAL (
  SELECT id FROM enrichment_jobs
  WHERE tenant_id = t.id AND completed_at < $1::timestamptz AND status = ANY($3::text[])
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
export const DELETE_JOBS = `
DELETE FROM enrichment_jobs
WHERE id = ANY($1::uuid[]) AND completed_at < $2::timestamptz AND status = ANY($3::text[])`;

// Finished exports requested before the cutoff, through exports_tenant_created_idx.
export const OLD_EXPORTS = `
SELECT e.id
FROM tenants t
CROSS JOIN LATERAL (
  SELECT id FROM exports WHERE tenant_id = t.id AND created_at < $1::timestamptz LIMIT $2::int
) e
JOIN enrichment_jobs j ON j.id = e.id AND j.status = ANY($3::text[])
LIMIT $2::int`;

export const EXPORT_PARTS = `
DELETE FROM export_parts WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM export_parts WHERE export_id = ANY($1::uuid[]) LIMIT $2::int
)) AND export_id = ANY($1::uuid[])`;

export const DELETE_EXPORTS = 'DELETE FROM exports WHERE id = ANY($1::uuid[])';

// Finished deliveries created before the cutoff (attempts cascade: a few per delivery).
export const OLD_DELIVERIES = `
DELETE FROM webhook_deliveries WHERE id = ANY(ARRAY(
  SELECT d.id
  FROM tenants t
  CROSS JOIN LATERAL (
    SELECT id FROM webhook_deliveries
    WHERE tenant_id = t.id AND created_at < $1::timestamptz AND status <> 'pending'
    LIMIT $2::int
  ) d
  LIMIT $2::int
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
