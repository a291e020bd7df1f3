// SQL of exports: the record, its parts, the list's columns and steps, and the pages of entries.
// Every function runs inside a tenant-scoped transaction (withTenant), so row-level security binds.
import type { Tx } from '../../db/transaction.js';
import type { JobStatus } from '../../jobs/status.js';
import type { ExportEntry, UploadedColumn } from './columns.js';

export type ExportFormat = 'csv' | 'jsonl';

/** An export as stored, with its job's status. */
export interface ExportRow {
  id: string;
  /** null for a tenant export (kind 'tenant') */
  list_id: string | null;
  /** a list's csv or jsonl; a tenant export's tar.gz */
  format: ExportFormat | 'tar.gz';
  kind: 'list' | 'tenant';
  /** when an erasure deleted the file's parts (the record stays) */
  erased_at: Date | null;
  status: JobStatus;
  rows: number;
  bytes: number;
  created_at: Date;
  completed_at: Date | null;
  /** created_at in microseconds since the epoch: the exact keyset position (a Date keeps only ms) */
  created_us: string;
}

// The job may be submitted through POST /v1/exports (which records this row at once) or the
// generic job endpoint (where the handler records it): whoever comes second changes nothing.
const ENSURE_EXPORT = `
INSERT INTO exports (id, tenant_id, list_id, format)
VALUES ($1::uuid, $2::uuid, $3::uuid, $4::text)
ON CONFLICT (id) DO NOTHING`;

/** Records an export (id = its job's id) unless it is recorded already. */
export async function ensureExport(tx: Tx, e: { id: string; tenantId: string; listId: string; format: ExportFormat }): Promise<void> {
  await tx.query(ENSURE_EXPORT, [e.id, e.tenantId, e.listId, e.format]);
}

/**
 * Locks the export for the rest of the transaction: a stale attempt still running (its worker
 * presumed dead) waits for the current one instead of interleaving parts with it.
 */
export async function lockExport(tx: Tx, id: string): Promise<boolean> {
  const { rowCount } = await tx.query('SELECT 1 FROM exports WHERE id = $1::uuid FOR UPDATE', [id]);
  return rowCount === 1;
}

/** Removes an export's parts: a new attempt starts the file over. */
export async function deleteParts(tx: Tx, id: string): Promise<void> {
  await tx.query('DELETE FROM export_parts WHERE export_id = $1::uuid', [id]);
}

/** Saves one part of the file. */
export async function insertPart(tx: Tx, p: { exportId: string; tenantId: string; part: number; data: Buffer }): Promise<void> {
  await tx.query(
    'INSERT INTO export_parts (export_id, part, tenant_id, data) VALUES ($1::uuid, $2::int, $3::uuid, $4::bytea)',
    [p.exportId, p.part, p.tenantId, p.data],
  );
}

/** Marks the file complete with its size. */
export async function completeExport(tx: Tx, id: string, rows: number, bytes: number): Promise<void> {
  await tx.query('UPDATE exports SET rows = $2::bigint, bytes = $3::bigint, completed_at = now() WHERE id = $1::uuid', [id, rows, bytes]);
}

/** The list's uploaded columns (in upload order) and entry count; null when there is no such list. */
export async function listForExport(tx: Tx, listId: string): Promise<{ columns: UploadedColumn[]; entryCount: number } | null> {
  const { rows } = await tx.query<{ columns: unknown; entry_count: number }>('SELECT columns, entry_count FROM lists WHERE id = $1::uuid', [listId]);
  const row = rows[0];
  if (!row) return null;
  const columns = Array.isArray(row.columns)
    ? row.columns.flatMap((c: unknown): UploadedColumn[] => {
        const col = c as { name?: unknown; mappedTo?: unknown } | null;
        return typeof col?.name === 'string' ? [{ name: col.name, mappedTo: typeof col.mappedTo === 'string' ? col.mappedTo : null }] : [];
      })
    : [];
  return { columns, entryCount: row.entry_count };
}

// The step types of the plans that jobs naming this list ran (a plan by planId, or steps given
// inline). A few rows per list job, where scanning entry_results for each step type would read
// every result of the list (entry_results has no index by list). The planId is cast only when
// it looks like a UUID, so an odd payload of some other job type cannot fail the statement.
const STEP_TYPES_RUN = `
SELECT DISTINCT s.step->>'type' AS type
FROM enrichment_jobs j
LEFT JOIN enrichment_plans p
  ON p.id = CASE WHEN j.payload->>'planId' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                 THEN (j.payload->>'planId')::uuid END
CROSS JOIN LATERAL jsonb_array_elements(
  CASE WHEN jsonb_typeof(p.steps) = 'array' THEN p.steps
       WHEN jsonb_typeof(j.payload->'steps') = 'array' THEN j.payload->'steps'
       ELSE '[]'::jsonb END) AS s(step)
WHERE j.payload->>'listId' = $1::text AND j.type <> 'export' AND s.step->>'type' IS NOT NULL`;

/** The step types run on the list, from the plans of the jobs that name it. */
export async function stepTypesRun(tx: Tx, listId: string): Promise<string[]> {
  const { rows } = await tx.query<{ type: string }>(STEP_TYPES_RUN, [listId]);
  return rows.map((r) => r.type);
}

// One keyset page of entries with their enrichment. Results merge oldest run first, so the
// latest run of each step wins (as GET /v1/lists/:id/entries shows them). Errors merge the same
// way, with each run's results as nulls over them: a step whose latest run answered has its
// older error cleared (jsonb_strip_nulls), one whose latest run raised keeps the message.
const ENTRY_PAGE = `
SELECT e.id::text AS id, e.data, r.enrichment, r.errors
FROM list_entries e
LEFT JOIN LATERAL (
  SELECT enrichd_jsonb_merge(er.results ORDER BY er.updated_at, er.job_id) AS enrichment,
         jsonb_strip_nulls(enrichd_jsonb_merge(
           (SELECT COALESCE(jsonb_object_agg(k, 'null'::jsonb), '{}'::jsonb) FROM jsonb_object_keys(er.results::jsonb) AS k)
             || COALESCE(er.errors::jsonb, '{}'::jsonb)
           ORDER BY er.updated_at, er.job_id)) AS errors
  FROM entry_results er
  WHERE er.entry_id = e.id
) r ON true
WHERE e.list_id = $1::uuid AND e.id > $2::bigint
ORDER BY e.id
LIMIT $3::int`;

/** The next page of the list's entries after entry id `after` (0 for the first page). */
export async function entryPage(tx: Tx, listId: string, after: string, limit: number): Promise<ExportEntry[]> {
  const { rows } = await tx.query<{ id: string; data: Record<string, unknown>; enrichment: Record<string, unknown>; errors: Record<string, string> }>(
    { name: 'enrichd_export_entry_page', text: ENTRY_PAGE },
    [listId, after, limit],
  );
  return rows;
}

/** Sets a running export job's progress (its own short transaction, so it is seen before the file is done). */
export async function setExportProgress(tx: Tx, jobId: string, total: number, processed: number): Promise<void> {
  await tx.query(
    `UPDATE enrichment_jobs SET progress_total = $2::int, progress_processed = $3::int, progress_succeeded = $3::int, updated_at = now()
WHERE id = $1::uuid AND status = 'running'`,
    [jobId, total, processed],
  );
}

const EXPORT_COLUMNS = `x.id, x.list_id, x.format, x.kind, x.erased_at, j.status, x.rows, x.bytes, x.created_at, x.completed_at,
  (extract(epoch FROM x.created_at) * 1000000)::bigint::text AS created_us`;

/** One export with its job's status, or null. */
export async function getExport(tx: Tx, id: string): Promise<ExportRow | null> {
  const { rows } = await tx.query<ExportRow>(
    `SELECT ${EXPORT_COLUMNS} FROM exports x JOIN enrichment_jobs j ON j.id = x.id WHERE x.id = $1::uuid`,
    [id],
  );
  return rows[0] ?? null;
}

// Newest first, keyset on (created_at, id); the position is exact to the microsecond.
const LIST_EXPORTS = `
SELECT ${EXPORT_COLUMNS}
FROM exports x JOIN enrichment_jobs j ON j.id = x.id
WHERE $1::bigint IS NULL
   OR (x.created_at, x.id) < (timestamptz 'epoch' + $1::bigint * interval '1 microsecond', $2::uuid)
ORDER BY x.created_at DESC, x.id DESC
LIMIT $3::int`;

/** A page of the tenant's exports, newest first, after the given position. */
export async function listExports(tx: Tx, after: { createdUs: string; id: string } | null, limit: number): Promise<ExportRow[]> {
  const { rows } = await tx.query<ExportRow>(LIST_EXPORTS, [after?.createdUs ?? null, after?.id ?? null, limit]);
  return rows;
}

/** One part of an export's file, or null past the last. */
export async function readPart(tx: Tx, exportId: string, part: number): Promise<Buffer | null> {
  const { rows } = await tx.query<{ data: Buffer }>('SELECT data FROM export_parts WHERE export_id = $1::uuid AND part = $2::int', [exportId, part]);
  return rows[0]?.data ?? null;
}
