// Worker-side status transitions, batched across concurrent tasks (as graphile-worker batches completions).
import type { Pool } from '../db/pool.js';
import type { JobError, JobRow } from '../jobs/job.js';
import { type JobStatus, STARTABLE_STATUSES, allowedFrom } from '../jobs/status.js';
import { Batcher } from '../util/batcher.js';

/** A started attempt: the job as it now is, and the statuses the start passed through. */
export interface StartedAttempt {
  row: JobRow;
  fromStatus: JobStatus;
  /** true when the round's attempts were already spent (a job that kept stalling): recorded as failed */
  exhausted: boolean;
}

// Every column of a job row, named: the statements below are prepared once per connection,
// and a prepared `j.*` would fail ("cached plan must not change result type") as soon as a
// migration added a column under a running worker.
const JOB_COLUMNS = [
  'id', 'tenant_id', 'type', 'status', 'priority', 'payload', 'tags', 'attempts', 'round_base', 'max_attempts',
  'timeout_ms', 'worker_id', 'progress_total', 'progress_processed', 'progress_succeeded', 'progress_failed',
  'result', 'last_error', 'webhook_url', 'run_at', 'retry_at', 'created_at', 'updated_at', 'started_at',
  'attempt_started_at', 'completed_at', 'dispatched_at', 'idempotency_key', 'request_hash',
] as const satisfies readonly (keyof JobRow)[];
// Fails to compile when JobRow gains a field the list lacks.
const EVERY_COLUMN: Exclude<keyof JobRow, (typeof JOB_COLUMNS)[number]> extends never ? true : never = true;
void EVERY_COLUMN;

// One statement starts a batch of attempts. A due scheduled job, or a running one whose worker
// stalled, passes through `pending` first, and its history says so. A job past its round's
// attempts is failed instead of started (a poison job that kills every worker it lands on).
const START_ATTEMPTS_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::text[]) AS t(id, worker_id)
), cur AS (
  SELECT j.id, j.status AS from_status, (j.attempts - j.round_base) >= j.max_attempts AS exhausted
  FROM enrichment_jobs j JOIN input i ON i.id = j.id
  WHERE j.status = ANY($3::text[])
  FOR UPDATE OF j
), upd AS (
  UPDATE enrichment_jobs j SET
    status = CASE WHEN c.exhausted THEN 'failed' ELSE 'running' END,
    attempts = CASE WHEN c.exhausted THEN j.attempts ELSE j.attempts + 1 END,
    worker_id = i.worker_id,
    started_at = COALESCE(j.started_at, now()),
    attempt_started_at = now(),
    completed_at = CASE WHEN c.exhausted THEN now() END,
    last_error = CASE WHEN c.exhausted
      THEN jsonb_build_object('message', 'the job stalled on every attempt of its round', 'code', 'stalled', 'at', now())
      ELSE j.last_error END,
    retry_at = NULL,
    -- a task reached a worker, so it was dispatched (the API's own mark skips started jobs)
    dispatched_at = COALESCE(j.dispatched_at, now()),
    updated_at = now()
  FROM cur c, input i
  WHERE j.id = c.id AND i.id = c.id
  RETURNING ${JOB_COLUMNS.map((c) => `j.${c}`).join(', ')}, c.from_status, c.exhausted
), events AS (
  INSERT INTO enrichment_job_events (job_id, tenant_id, from_status, to_status, attempt, worker_id, message)
  SELECT u.id, u.tenant_id, e.from_status, e.to_status, u.attempts, u.worker_id, e.message
  FROM upd u CROSS JOIN LATERAL (
    SELECT u.from_status AS from_status, 'pending' AS to_status,
           CASE WHEN u.from_status = 'running' THEN 'handed back after its worker stalled' ELSE 'due' END AS message, 1 AS ord
    WHERE u.from_status IN ('scheduled', 'running')
    UNION ALL
    SELECT CASE WHEN u.from_status IN ('scheduled', 'running') THEN 'pending' ELSE u.from_status END,
           CASE WHEN u.exhausted THEN 'failed' ELSE 'running' END,
           CASE WHEN u.exhausted THEN 'attempts exhausted' END, 2
  ) e
  ORDER BY u.id, e.ord
)
SELECT * FROM upd`;

/** How an attempt ended. */
export interface AttemptOutcome {
  id: string;
  attempt: number;
  workerId: string;
  to: 'completed' | 'retrying' | 'failed';
  result?: Record<string, unknown> | null;
  error?: JobError | null;
  retryAt?: Date | null;
  /** progress counters to set; unset keeps the handler's own */
  progress?: { processed: number; succeeded: number; failed: number } | null;
}

// Ends a batch of attempts. Only the attempt that is still current may end it: a stale
// worker (its job was handed back, cancelled, or already finished) changes nothing.
const FINISH_ATTEMPTS_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[], $5::jsonb[], $6::timestamptz[],
                       $7::int[], $8::int[], $9::int[], $10::text[])
    AS t(id, attempt, to_status, result, last_error, retry_at, processed, succeeded, failed, worker_id)
), upd AS (
  UPDATE enrichment_jobs j SET
    status = i.to_status,
    result = CASE WHEN i.to_status = 'completed' THEN i.result ELSE j.result END,
    last_error = COALESCE(i.last_error, j.last_error),
    retry_at = i.retry_at,
    completed_at = CASE WHEN i.to_status IN ('completed', 'failed') THEN now() END,
    progress_processed = COALESCE(i.processed, j.progress_processed),
    progress_succeeded = COALESCE(i.succeeded, j.progress_succeeded),
    progress_failed = COALESCE(i.failed, j.progress_failed),
    updated_at = now()
  FROM input i
  WHERE j.id = i.id AND j.status = 'running' AND j.attempts = i.attempt
    AND i.to_status = ANY(CASE i.to_status WHEN 'completed' THEN $11::text[] WHEN 'retrying' THEN $12::text[] ELSE $13::text[] END)
  RETURNING j.id, j.tenant_id, j.attempts, i.to_status, i.worker_id, i.last_error
), events AS (
  INSERT INTO enrichment_job_events (job_id, tenant_id, from_status, to_status, attempt, worker_id, message)
  SELECT id, tenant_id, 'running', to_status, attempts, worker_id, last_error->>'message' FROM upd
)
SELECT id FROM upd`;

// Planning these statements costs more than running them for a small batch: prepare them.
const START_ATTEMPTS = { name: 'enrichd_start_attempts_v1', text: START_ATTEMPTS_SQL };
const FINISH_ATTEMPTS = { name: 'enrichd_finish_attempts_v1', text: FINISH_ATTEMPTS_SQL };

// 'running' must be a legal source of each target; the table in status.ts decides.
const FROM_RUNNING = (to: JobStatus): string[] => (allowedFrom(to).includes('running') ? [to] : []);

/** Batched start and finish of attempts, shared by all tasks of one worker process. */
export class Transitions {
  private readonly starts: Batcher<{ id: string; workerId: string }, StartedAttempt | null>;
  private readonly finishes: Batcher<AttemptOutcome, boolean>;

  constructor(private readonly pool: Pool) {
    this.starts = new Batcher({ maxBatch: 500, maxInFlight: 2, run: (items) => this.runStarts(items) });
    this.finishes = new Batcher({ maxBatch: 500, maxInFlight: 2, run: (items) => this.runFinishes(items) });
  }

  /** Starts an attempt; null when the job is not startable (finished, cancelled, or unknown). */
  start(id: string, workerId: string): Promise<StartedAttempt | null> {
    return this.starts.add({ id, workerId });
  }

  /** Ends an attempt; false when the attempt was no longer current, so nothing changed. */
  finish(outcome: AttemptOutcome): Promise<boolean> {
    return this.finishes.add(outcome);
  }

  private async runStarts(items: { id: string; workerId: string }[]): Promise<(StartedAttempt | null)[]> {
    // A duplicate delivery in the same batch gets null: only one of them runs the attempt.
    const { rows } = await this.pool.query<JobRow & { from_status: JobStatus; exhausted: boolean }>({
      ...START_ATTEMPTS,
      values: [items.map((i) => i.id), items.map((i) => i.workerId), STARTABLE_STATUSES],
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const seen = new Set<string>();
    return items.map((i) => {
      const r = byId.get(i.id);
      if (!r || seen.has(i.id)) return null;
      seen.add(i.id);
      const { from_status, exhausted, ...row } = r;
      return { row: row as JobRow, fromStatus: from_status, exhausted };
    });
  }

  private async runFinishes(items: AttemptOutcome[]): Promise<boolean[]> {
    const { rows } = await this.pool.query<{ id: string }>({
      ...FINISH_ATTEMPTS,
      values: [
        items.map((o) => o.id),
        items.map((o) => o.attempt),
        items.map((o) => o.to),
        items.map((o) => (o.result === undefined || o.result === null ? null : JSON.stringify(o.result))),
        items.map((o) => (o.error ? JSON.stringify(o.error) : null)),
        items.map((o) => o.retryAt ?? null),
        items.map((o) => o.progress?.processed ?? null),
        items.map((o) => o.progress?.succeeded ?? null),
        items.map((o) => o.progress?.failed ?? null),
        items.map((o) => o.workerId),
        FROM_RUNNING('completed'),
        FROM_RUNNING('retrying'),
        FROM_RUNNING('failed'),
      ],
    });
    const done = new Set(rows.map((r) => r.id));
    return items.map((o) => done.has(o.id));
  }
}
