// The statements of tenant_cleanup. Each removes at most one batch ($3) of the tenant's ($1)
// rows, chosen through an index, and adds what it removed to the cleanup job's ($2)
// progress row in the same statement: one short transaction per batch, so no table is locked
// for long, and a cleanup resumed after a crash reports exact totals.

/** Wraps a `DELETE ... RETURNING 1` (named d) so its count lands in tenant_cleanup_progress. */
function counted(table: string, deleteSql: string): string {
  return `
WITH d AS (${deleteSql}
), n AS (SELECT count(*)::bigint AS n FROM d
), up AS (
  INSERT INTO tenant_cleanup_progress (job_id, tenant_id, table_name, rows)
  SELECT $2::uuid, $1::uuid, '${table}', n FROM n
  ON CONFLICT (job_id, table_name) DO UPDATE SET rows = tenant_cleanup_progress.rows + EXCLUDED.rows
)
SELECT n::int AS n FROM n`;
}

/** One batched step: the table it counts under, and its statement ($1 tenant, $2 cleanup job, $3 batch). */
export interface CleanupStep {
  table: string;
  sql: string;
}

// A batch of rows picked by ctid through an index on the tenant (or a join from one), the
// tenant checked again on the row deleted.
const byTenant = (table: string, where = ''): CleanupStep => ({
  table,
  sql: counted(table, `
  DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM ${table} WHERE tenant_id = $1::uuid ${where} LIMIT $3::int
  )) AND tenant_id = $1::uuid ${where}
  RETURNING 1`),
});

// Rows of a child table with no tenant index, reached from the parent's tenant index.
const throughParent = (table: string, column: string, parent: string, parentWhere = ''): CleanupStep => ({
  table,
  sql: counted(table, `
  DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
    SELECT c.ctid FROM ${parent} p JOIN ${table} c ON c.${column} = p.id
    WHERE p.tenant_id = $1::uuid ${parentWhere} LIMIT $3::int
  )) AND tenant_id = $1::uuid
  RETURNING 1`),
});

const NOT_SELF = 'AND job_id <> $2::uuid';

// One batch of a list's entries ($4, after entry id $5) with their results, by primary key
// ranges: entries in id order through (list_id, id), results through their (entry_id, job_id) key.
export const LIST_ENTRIES_BATCH = `
WITH e AS (
  DELETE FROM list_entries
  WHERE id = ANY(ARRAY(
    SELECT id FROM list_entries WHERE list_id = $4::uuid AND id > $5::bigint ORDER BY id LIMIT $3::int
  )) AND tenant_id = $1::uuid
  RETURNING id
), r AS (
  DELETE FROM entry_results WHERE entry_id = ANY(ARRAY(SELECT id FROM e)) AND tenant_id = $1::uuid
  RETURNING 1
), up AS (
  INSERT INTO tenant_cleanup_progress (job_id, tenant_id, table_name, rows)
  VALUES ($2::uuid, $1::uuid, 'list_entries', (SELECT count(*) FROM e)),
         ($2::uuid, $1::uuid, 'entry_results', (SELECT count(*) FROM r))
  ON CONFLICT (job_id, table_name) DO UPDATE SET rows = tenant_cleanup_progress.rows + EXCLUDED.rows
)
SELECT (SELECT count(*) FROM e)::int AS n, (SELECT max(id) FROM e)::text AS last`;

export const TENANT_LISTS = 'SELECT id FROM lists WHERE tenant_id = $1::uuid ORDER BY id';

/**
 * Everything else, in an order that never leaves a row referring to a removed one: children
 * before their parents (so no cascade removes a large set in one statement), jobs after
 * everything that hangs on them, the cleanup job ($2) and its rows always excepted.
 */
export const CLEANUP_STEPS: CleanupStep[] = [
  // results of jobs whose entries are gone already (a lead job's, a list removed meanwhile)
  throughParent('entry_results', 'job_id', 'enrichment_jobs', 'AND p.id <> $2::uuid'),
  throughParent('list_job_chunks', 'job_id', 'enrichment_jobs', 'AND p.id <> $2::uuid'),
  throughParent('export_parts', 'export_id', 'exports', 'AND p.id <> $2::uuid'),
  throughParent('webhook_delivery_attempts', 'delivery_id', 'webhook_deliveries'),
  byTenant('webhook_deliveries'),
  byTenant('enrichment_job_events', NOT_SELF),
  byTenant('enrichment_job_search', NOT_SELF),
  byTenant('exports', 'AND id <> $2::uuid'),
  // Earlier cleanups' progress rows go with their jobs (cascade, a few rows each).
  byTenant('enrichment_jobs', 'AND id <> $2::uuid'),
  byTenant('lists'),
  byTenant('enrichment_plans'),
  byTenant('webhook_endpoints'),
  byTenant('tenant_webhook_secrets'),
  byTenant('provider_calls'),
  byTenant('privacy_erasures'),
  byTenant('tenant_retention'),
  // Shared tables keyed by scope: the tenant's own cache entries and erasure marks
  // (global-scope rows are every tenant's and stay).
  {
    table: 'provider_cache',
    sql: counted('provider_cache', `
  DELETE FROM provider_cache WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM provider_cache WHERE scope = $1::uuid::text LIMIT $3::int
  )) AND scope = $1::uuid::text
  RETURNING 1`),
  },
  {
    table: 'privacy_marks',
    sql: counted('privacy_marks', `
  DELETE FROM privacy_marks WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM privacy_marks WHERE scope = $1::uuid::text LIMIT $3::int
  )) AND scope = $1::uuid::text
  RETURNING 1`),
  },
];

/** Tables whose tenant rows stay: the trail, and the cleanup's own record. */
export const KEPT_TABLES = new Set(['audit_log', 'tenant_cleanup_progress']);

/**
 * Every table with a tenant_id column: one added later that the steps above do not name is
 * still emptied of the tenant's rows (by the generic step), so no new table is forgotten.
 */
export const TENANT_TABLES = `
SELECT c.table_name AS name
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
ORDER BY 1`;

/** The generic step for a tenant table no step names (a ctid batch on tenant_id). */
export function genericStep(table: string): CleanupStep {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`unexpected table name ${table}`);
  return byTenant(table);
}

// The tenant's unfinished jobs but the cleanup itself, a page at a time.
export const UNFINISHED_JOBS = `
SELECT id FROM enrichment_jobs
WHERE tenant_id = $1::uuid AND status IN ('pending', 'scheduled', 'running', 'retrying') AND id <> $2::uuid
ORDER BY id
LIMIT $3::int`;

export const PROGRESS = 'SELECT table_name, rows::bigint::text AS rows FROM tenant_cleanup_progress WHERE job_id = $1::uuid ORDER BY table_name';

// Which of these job ids ($1) are the tenant's ($2).
export const JOBS_OF_TENANT = 'SELECT id::text AS id FROM enrichment_jobs WHERE id = ANY($1::uuid[]) AND tenant_id = $2::uuid';
