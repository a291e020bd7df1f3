// SQL for lists and their entries. Reads run in a tenant transaction (row-level security binds);
// the import's own statements (csv-import.ts) run as the system with the tenant written explicitly.
import type { Tx } from '../db/transaction.js';
import type { ListColumn } from './columns.js';
import { type CreatedKey, encodeCreatedCursor, encodeEntryCursor } from './cursor.js';

/** A list as clients see it. */
export interface List {
  id: string;
  name: string;
  entryCount: number;
  columns: ListColumn[];
  createdAt: string;
}

/** One entry as clients see it: the uploaded columns and the latest result of each step. */
export interface ListEntry {
  id: string;
  data: Record<string, unknown>;
  enrichment: Record<string, unknown>;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface ListRow {
  id: string;
  name: string;
  entry_count: number;
  columns: ListColumn[];
  created_at: Date;
  micros: string;
}

const toList = (r: ListRow): List => ({ id: r.id, name: r.name, entryCount: r.entry_count, columns: r.columns, createdAt: r.created_at.toISOString() });

// created_at as integer microseconds, so a cursor keeps the full precision of the column.
const LIST_COLUMNS = `id, name, entry_count, columns, created_at,
  (extract(epoch FROM created_at) * 1000000)::bigint::text AS micros`;

/** One list of the current tenant, or null. */
export async function getList(tx: Tx, id: string): Promise<List | null> {
  const { rows } = await tx.query<ListRow>(`SELECT ${LIST_COLUMNS} FROM lists WHERE id = $1::uuid`, [id]);
  return rows[0] ? toList(rows[0]) : null;
}

// The tenant predicate repeats what row-level security enforces, so lists_tenant_created_idx serves the order.
const LIST_PAGE = `
SELECT ${LIST_COLUMNS}
FROM lists
WHERE tenant_id = $1::uuid
  AND ($2::bigint IS NULL OR (created_at, id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::uuid))
ORDER BY created_at DESC, id DESC
LIMIT $4::int`;

/** A page of the tenant's lists, newest first. */
export async function listLists(tx: Tx, tenantId: string, limit: number, after: CreatedKey | null): Promise<Page<List>> {
  const { rows } = await tx.query<ListRow>(LIST_PAGE, [tenantId, after?.micros ?? null, after?.id ?? null, limit + 1]);
  return pageOf(rows, limit, toList, (r) => encodeCreatedCursor({ micros: r.micros, id: r.id }));
}

// The entry's rows in entry_results merged oldest first, so the latest run of each step wins.
const ENTRY_PAGE = `
SELECT e.id::text AS id, e.data,
       COALESCE((SELECT enrichd_jsonb_merge(r.results ORDER BY r.updated_at, r.job_id)
                 FROM entry_results r
                 WHERE r.entry_id = e.id), '{}'::jsonb) AS enrichment
FROM list_entries e
WHERE e.list_id = $1::uuid AND e.id > $2::bigint
ORDER BY e.id
LIMIT $3::int`;

/** A page of one list's entries by ascending id (the caller has checked the list is the tenant's). */
export async function listEntries(tx: Tx, listId: string, limit: number, afterId: string | null): Promise<Page<ListEntry>> {
  const { rows } = await tx.query<ListEntry>(ENTRY_PAGE, [listId, afterId ?? '0', limit + 1]);
  return pageOf(rows, limit, (r) => r, (r) => encodeEntryCursor(r.id));
}

/** Cuts the one extra row a page query asks for into the next cursor. */
function pageOf<R, T>(rows: R[], limit: number, map: (r: R) => T, cursor: (r: R) => string): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(map), nextCursor: more && last !== undefined ? cursor(last) : null };
}

/** Shared by plans.ts: the same page cut for newest-first listings. */
export { pageOf };
