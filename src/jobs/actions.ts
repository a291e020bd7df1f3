// What a client may do to a job after submitting it: cancel it, retry it, change it; one or many at once.
import type { Tx } from '../db/transaction.js';
import { AppError, type ErrorCode } from '../errors.js';
import type { JobRow } from './job.js';
import { CHUNKED_TYPES, dropChunks, planFailedEntryChunks } from './list-chunks.js';
import { type JobStatus, allowedFrom, canTransition, isFinished } from './status.js';

// Both actions move a job along the one transition table.
if (!canTransition('failed', 'pending') || !canTransition('cancelled', 'pending') || !canTransition('completed', 'pending')) {
  throw new Error('status table forbids retries');
}

const LOCK_JOB = 'SELECT * FROM enrichment_jobs WHERE id = $1::uuid FOR UPDATE';

const CANCEL = `
WITH upd AS (
  UPDATE enrichment_jobs SET status = 'cancelled', completed_at = now(), retry_at = NULL, updated_at = now()
  WHERE id = $1::uuid
  RETURNING *
), ev AS (
  INSERT INTO enrichment_job_events (job_id, tenant_id, from_status, to_status, attempt, worker_id, message)
  SELECT id, tenant_id, $2::text, 'cancelled', attempts, NULL, 'cancelled by a client' FROM upd
)
SELECT * FROM upd`;

/**
 * Cancels a job that has not finished. A running attempt's outcome is then discarded (the
 * finish only applies to a running job) and a running list job stops at its next chunk.
 */
export async function cancelJob(tx: Tx, id: string): Promise<JobRow> {
  const current = await lockJob(tx, id);
  if (!allowedFrom('cancelled').includes(current.status)) {
    throw new AppError('conflict', `The job is ${current.status}; only an unfinished job can be cancelled.`, [{ path: 'status', message: current.status }]);
  }
  const { rows } = await tx.query<JobRow>(CANCEL, [id, current.status]);
  return rows[0]!;
}

export type RetryScope = 'job' | 'failed_entries';

const RETRY = `
WITH upd AS (
  UPDATE enrichment_jobs SET
    status = 'pending', round_base = attempts, retry_at = NULL, run_at = NULL, completed_at = NULL,
    result = NULL, dispatched_at = NULL, updated_at = now()
  WHERE id = $1::uuid
  RETURNING *
), ev AS (
  INSERT INTO enrichment_job_events (job_id, tenant_id, from_status, to_status, attempt, worker_id, message)
  SELECT id, tenant_id, $2::text, 'pending', attempts, NULL, $3::text FROM upd
)
SELECT * FROM upd`;

const RESET_COUNTERS = `
UPDATE enrichment_jobs SET progress_processed = 0, progress_succeeded = 0, progress_failed = 0 WHERE id = $1::uuid`;

/**
 * Puts a finished job back to pending with a new round of attempts. `failed_entries` (list
 * jobs only) re-runs just the entries whose steps raised; `job` runs the whole job again.
 * The caller dispatches the job after the commit.
 */
export async function retryJob(tx: Tx, id: string, scope: RetryScope): Promise<JobRow> {
  const current = await lockJob(tx, id);
  const chunked = CHUNKED_TYPES.includes(current.type);
  if (scope === 'failed_entries') {
    if (!chunked) throw new AppError('conflict', 'Only a list job has failed entries to retry.', [{ path: 'scope', message: 'failed_entries needs a list job' }]);
    if (!isFinished(current.status)) throw new AppError('conflict', `The job is ${current.status}; its failed entries can be retried once it has finished.`, [{ path: 'status', message: current.status }]);
  } else if (current.status !== 'failed' && current.status !== 'cancelled') {
    throw new AppError('conflict', `The job is ${current.status}; only a failed or cancelled job can be retried.`, [{ path: 'status', message: current.status }]);
  }
  const payload = current.payload as { listId?: string; chunkSize?: number };
  if (scope === 'failed_entries') {
    const job = { id, tenantId: current.tenant_id, type: current.type, priority: current.priority };
    const entries = await planFailedEntryChunks(tx, job, payload.listId!, payload.chunkSize ?? 50);
    if (entries === 0) throw new AppError('conflict', 'The job has no failed entries to retry.', [{ path: 'scope', message: 'no failed entries' }]);
  } else {
    // The whole job again; a list job's next attempt plans its list afresh (results are updated in place).
    if (chunked) await dropChunks(tx, id);
    await tx.query(RESET_COUNTERS, [id]);
  }
  const { rows } = await tx.query<JobRow>(RETRY, [id, current.status, scope === 'failed_entries' ? 'retry of failed entries' : 'retried by a client']);
  return rows[0]!;
}

export interface JobChanges {
  priority?: number;
  /** null removes the webhook */
  webhookUrl?: string | null;
  tags?: string[];
}

// Only what the client named changes; no event row (events record status transitions only).
const UPDATE = `
UPDATE enrichment_jobs SET
  priority = COALESCE($2::smallint, priority),
  webhook_url = CASE WHEN $3::boolean THEN $4::text ELSE webhook_url END,
  tags = COALESCE($5::text[], tags),
  updated_at = now()
WHERE id = $1::uuid
RETURNING *`;

/** Changes an unfinished job's priority, webhook or tags; returns the job before and after. */
export async function updateJob(tx: Tx, id: string, changes: JobChanges): Promise<{ before: JobRow; after: JobRow }> {
  const before = await lockJob(tx, id);
  if (isFinished(before.status)) {
    throw new AppError('conflict', `The job is ${before.status}; only an unfinished job can be changed.`, [{ path: 'status', message: before.status }]);
  }
  const { rows } = await tx.query<JobRow>(UPDATE, [
    id,
    changes.priority ?? null,
    changes.webhookUrl !== undefined,
    changes.webhookUrl ?? null,
    changes.tags ?? null,
  ]);
  return { before, after: rows[0]! };
}

// A job's own task has the job's id; a list job's queued chunks each have one too (chunkTaskId).
const QUEUED_TASK_IDS = `
SELECT id::text AS task_id FROM unnest($1::uuid[]) AS id
UNION ALL
SELECT job_id::text || '-c' || seq FROM list_job_chunks WHERE job_id = ANY($1::uuid[]) AND state = 'queued'`;

/** The ids of the tasks the jobs may have in Redis: their own and their queued chunks'. */
export async function queuedTaskIds(tx: Tx, jobIds: string[]): Promise<string[]> {
  if (jobIds.length === 0) return [];
  const { rows } = await tx.query<{ task_id: string }>(QUEUED_TASK_IDS, [jobIds]);
  return rows.map((r) => r.task_id);
}

export type BulkAction = 'cancel' | 'retry';

export type BulkOutcome =
  | { id: string; ok: true; row: JobRow }
  | { id: string; ok: false; error: { code: ErrorCode; message: string }; status?: JobStatus };

// Every named job of the tenant, locked in id order: two bulk calls over overlapping ids
// then wait for each other instead of deadlocking.
const LOCK_JOBS = 'SELECT id FROM enrichment_jobs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE';

/**
 * Cancels or retries (scope job) many jobs in one transaction, each exactly as the single
 * call would; one outcome per distinct id, in the order given. A job that is absent or
 * in the wrong status is an outcome, not an error, and changes nothing.
 */
export async function bulkJobAction(tx: Tx, ids: string[], action: BulkAction): Promise<BulkOutcome[]> {
  const distinct = [...new Set(ids.map((id) => id.toLowerCase()))];
  const { rows } = await tx.query<{ id: string }>(LOCK_JOBS, [distinct]);
  const present = new Set(rows.map((r) => r.id));
  const outcomes: BulkOutcome[] = [];
  for (const id of distinct) {
    if (!present.has(id)) {
      outcomes.push({ id, ok: false, error: { code: 'not_found', message: 'No such job.' } });
      continue;
    }
    try {
      const row = action === 'cancel' ? await cancelJob(tx, id) : await retryJob(tx, id, 'job');
      outcomes.push({ id, ok: true, row });
    } catch (err) {
      // Both actions refuse before writing anything, so the transaction carries on.
      if (!(err instanceof AppError)) throw err;
      const detail = err.details[0] as { path?: string; message?: string } | undefined;
      const status = detail?.path === 'status' ? (detail.message as JobStatus) : undefined;
      outcomes.push({ id, ok: false, error: { code: err.code, message: err.message }, ...(status ? { status } : {}) });
    }
  }
  return outcomes;
}

async function lockJob(tx: Tx, id: string): Promise<JobRow & { status: JobStatus }> {
  const { rows } = await tx.query<JobRow>(LOCK_JOB, [id]);
  const row = rows[0];
  if (!row) throw new AppError('not_found', 'No such job.');
  return row;
}
