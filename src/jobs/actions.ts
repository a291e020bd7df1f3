// What a client may do to a job after submitting it: cancel it, or retry it.
import type { Tx } from '../db/transaction.js';
import { AppError } from '../errors.js';
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

async function lockJob(tx: Tx, id: string): Promise<JobRow & { status: JobStatus }> {
  const { rows } = await tx.query<JobRow>(LOCK_JOB, [id]);
  const row = rows[0];
  if (!row) throw new AppError('not_found', 'No such job.');
  return row;
}
