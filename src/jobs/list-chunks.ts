// A list job's chunk plan in PostgreSQL: planned at its first attempt, re-planned by a retry.
// (The API re-plans on retry and the worker plans at start, so neither imports the other.)
import type { Tx } from '../db/transaction.js';

/** Job types whose jobs run in chunk tasks rather than in their own task. */
export const CHUNKED_TYPES: readonly string[] = ['list_enrichment'];

/** The job a chunk plan belongs to. */
export interface ChunkedJob {
  id: string;
  tenantId: string;
  type: string;
  priority: number;
}

// Keyset ranges of `chunkSize` entry ids over the whole list, numbered from $2.
const PLAN_LIST_CHUNKS = `
INSERT INTO list_job_chunks (job_id, seq, tenant_id, list_id, first_entry_id, last_entry_id, entry_count)
SELECT $1::uuid, $2::int + g, $3::uuid, $4::uuid, min(id), max(id), count(*)
FROM (
  SELECT id, (row_number() OVER (ORDER BY id) - 1) / $5::int AS g
  FROM list_entries WHERE list_id = $4::uuid
) e
GROUP BY g
RETURNING entry_count`;

// A re-run of the job's failed entries: chunks naming their entries, numbered after the others.
const PLAN_FAILED_CHUNKS = `
INSERT INTO list_job_chunks (job_id, seq, tenant_id, list_id, first_entry_id, last_entry_id, entry_ids, entry_count)
SELECT $1::uuid, $2::int + g, $3::uuid, $4::uuid, min(entry_id), max(entry_id), array_agg(entry_id ORDER BY entry_id), count(*)
FROM (
  SELECT entry_id, (row_number() OVER (ORDER BY entry_id) - 1) / $5::int AS g
  FROM entry_results WHERE job_id = $1::uuid AND errors IS NOT NULL
) f
GROUP BY g
RETURNING entry_count`;

const NEXT_SEQ = 'SELECT COALESCE(max(seq) + 1, 0)::int AS next FROM list_job_chunks WHERE job_id = $1::uuid';

const RESET_PROGRESS = `
UPDATE enrichment_jobs SET progress_total = $2::int, progress_processed = 0, progress_succeeded = 0, progress_failed = 0,
  updated_at = now()
WHERE id = $1::uuid`;

/** Plans chunks over the whole list and sets the job's total; returns the number of entries. */
export async function planListChunks(tx: Tx, job: ChunkedJob, listId: string, chunkSize: number): Promise<number> {
  const next = (await tx.query<{ next: number }>(NEXT_SEQ, [job.id])).rows[0]!.next;
  const { rows } = await tx.query<{ entry_count: number }>(PLAN_LIST_CHUNKS, [job.id, next, job.tenantId, listId, chunkSize]);
  const entries = rows.reduce((n, r) => n + r.entry_count, 0);
  await tx.query(RESET_PROGRESS, [job.id, entries]);
  return entries;
}

const DROP_OPEN_CHUNKS = `DELETE FROM list_job_chunks WHERE job_id = $1::uuid AND state <> 'done'`;
const RERUN_PROGRESS = `
UPDATE enrichment_jobs SET
  progress_total = progress_processed,
  progress_processed = progress_processed - $2::int,
  progress_failed = 0,
  updated_at = now()
WHERE id = $1::uuid
RETURNING progress_total`;

/**
 * Plans a re-run of the job's failed entries only: chunks that name them, numbered after the
 * others. Counters then read: total = entries processed so far, processed less the failed
 * ones, so the re-run brings processed back to total. Returns the number of entries.
 */
export async function planFailedEntryChunks(tx: Tx, job: ChunkedJob, listId: string, chunkSize: number): Promise<number> {
  await tx.query(DROP_OPEN_CHUNKS, [job.id]);
  const next = (await tx.query<{ next: number }>(NEXT_SEQ, [job.id])).rows[0]!.next;
  const { rows } = await tx.query<{ entry_count: number }>(PLAN_FAILED_CHUNKS, [job.id, next, job.tenantId, listId, chunkSize]);
  const entries = rows.reduce((n, r) => n + r.entry_count, 0);
  await tx.query(RERUN_PROGRESS, [job.id, entries]);
  return entries;
}

const DROP_CHUNKS = `DELETE FROM list_job_chunks WHERE job_id = $1::uuid`;

/** Forgets a job's chunks so that its next attempt plans the whole list afresh. */
export async function dropChunks(tx: Tx, jobId: string): Promise<void> {
  await tx.query(DROP_CHUNKS, [jobId]);
}
