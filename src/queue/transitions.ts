// Worker-side status transitions, batched across concurrent tasks (as graphile-worker batches completions).
import type { QueryConfig } from 'pg';
import type { Pool } from '../db/pool.js';
import { BY_PRIMARY_KEY, systemBatch } from '../db/transaction.js';
import type { JobError, JobRow } from '../jobs/job.js';
import { JOB_STATUSES, type JobStatus, STARTABLE_STATUSES, allowedFrom } from '../jobs/status.js';
import { Batcher } from '../util/batcher.js';

/** A started attempt: the job as it now is, and the statuses the start passed through. */
export interface StartedAttempt {
  row: JobRow;
  fromStatus: JobStatus;
  /** true when the round's attempts were already spent (a job that kept stalling): recorded as failed */
  exhausted: boolean;
}

// Both statements look their jobs up by primary key, one id at a time, whatever the statistics
// say; they are often stale here (a backlog grows faster than ANALYZE runs), and a plan built on
// "there are no pending jobs" walks the whole table, or the whole partial index of unfinished
// jobs, once per batch. Hence: the lock taken through a LATERAL probe per id; accepted statuses
// written as "none of the others" (a plain `status = ...` matches that partial index); and
// sequential scans off for the batch (BY_PRIMARY_KEY). With no plan left to choose, each
// statement is prepared once per connection and its one generic plan reused: for a batch of a
// few jobs, planning them costs more than running them.
const PLAN = `${BY_PRIMARY_KEY}, set_config('plan_cache_mode', 'force_generic_plan', true)`;
// A start acknowledges nothing to anyone, so its batch need not wait for the WAL flush: lost in
// a PostgreSQL crash, the job is pending again and undispatched, and the relay queues it again
// (at least once, as after a worker crash). Finishes are results, so a batch with any waits.
const PLAN_NO_FLUSH = `${PLAN}, set_config('synchronous_commit', 'off', true)`;

// Every column of a job row, named: a prepared `j.*` would fail ("cached plan must not change
// result type") once a migration added a column under a running worker.
const JOB_COLUMNS = [
  'id', 'tenant_id', 'type', 'status', 'priority', 'payload', 'tags', 'attempts', 'round_base', 'max_attempts',
  'timeout_ms', 'worker_id', 'progress_total', 'progress_processed', 'progress_succeeded', 'progress_failed',
  'result', 'last_error', 'webhook_url', 'run_at', 'retry_at', 'created_at', 'updated_at', 'started_at',
  'attempt_started_at', 'completed_at', 'dispatched_at', 'idempotency_key', 'request_hash',
] as const satisfies readonly (keyof JobRow)[];
// Fails to compile when JobRow gains a field the list lacks.
const EVERY_COLUMN: Exclude<keyof JobRow, (typeof JOB_COLUMNS)[number]> extends never ? true : never = true;
void EVERY_COLUMN;
const NOT_STARTABLE = JOB_STATUSES.filter((s) => !STARTABLE_STATUSES.includes(s));
const NOT_RUNNING = JOB_STATUSES.filter((s) => s !== 'running');

// One statement starts a batch of attempts. A due scheduled job, or a running one whose worker
// stalled, passes through `pending` first, and its history says so. A job past its round's
// attempts is failed instead of started (a poison job that kills every worker it lands on).
const START_ATTEMPTS = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::text[]) AS t(id, worker_id)
), cur AS (
  SELECT j.id, j.status AS from_status, (j.attempts - j.round_base) >= j.max_attempts AS exhausted
  FROM input i CROSS JOIN LATERAL (
    SELECT j.id, j.status, j.attempts, j.round_base, j.max_attempts
    FROM enrichment_jobs j
    WHERE j.id = i.id AND j.status <> ALL($3::text[])
    FOR UPDATE
  ) j
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
  /** pending: handed back at shutdown, for another worker to run at once */
  to: 'completed' | 'retrying' | 'failed' | 'pending';
  result?: Record<string, unknown> | null;
  error?: JobError | null;
  retryAt?: Date | null;
  /** progress counters to set; unset keeps the handler's own */
  progress?: { total?: number; processed: number; succeeded: number; failed: number } | null;
  /** to pending only: the attempt is given back (a deferral: waiting for a provider is not a try) */
  unspend?: boolean;
  /** the event's message when there is no error (a deferral says what it waits for) */
  note?: string;
}

// Ends a batch of attempts. Only the attempt that is still current may end it: a stale
// worker (its job was handed back, cancelled, or already finished) changes nothing.
const FINISH_ATTEMPTS = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[], $5::jsonb[], $6::timestamptz[],
                       $7::int[], $8::int[], $9::int[], $10::text[], $15::int[], $17::bool[], $18::text[])
    AS t(id, attempt, to_status, result, last_error, retry_at, processed, succeeded, failed, worker_id, total, unspend, note)
), upd AS (
  UPDATE enrichment_jobs j SET
    status = i.to_status,
    attempts = CASE WHEN i.unspend AND i.to_status = 'pending' THEN j.attempts - 1 ELSE j.attempts END,
    result = CASE WHEN i.to_status = 'completed' THEN i.result ELSE j.result END,
    last_error = COALESCE(i.last_error, j.last_error),
    retry_at = i.retry_at,
    completed_at = CASE WHEN i.to_status IN ('completed', 'failed') THEN now() END,
    progress_total = COALESCE(i.total, j.progress_total),
    progress_processed = COALESCE(i.processed, j.progress_processed),
    progress_succeeded = COALESCE(i.succeeded, j.progress_succeeded),
    progress_failed = COALESCE(i.failed, j.progress_failed),
    updated_at = now()
  FROM input i
  WHERE j.id = i.id AND j.status <> ALL($14::text[]) AND j.attempts = i.attempt
    AND i.to_status = ANY(CASE i.to_status WHEN 'completed' THEN $11::text[] WHEN 'retrying' THEN $12::text[]
                                           WHEN 'failed' THEN $13::text[] ELSE $16::text[] END)
  RETURNING ${JOB_COLUMNS.map((c) => `j.${c}`).join(', ')}, i.to_status, i.worker_id AS by_worker, i.last_error AS error, i.note
), events AS (
  INSERT INTO enrichment_job_events (job_id, tenant_id, from_status, to_status, attempt, worker_id, message)
  SELECT id, tenant_id, 'running', to_status, attempts, by_worker, COALESCE(error->>'message', note) FROM upd
)
SELECT ${JOB_COLUMNS.join(', ')} FROM upd`;

// 'running' must be a legal source of each target; the table in status.ts decides.
const FROM_RUNNING = (to: JobStatus): string[] => (allowedFrom(to).includes('running') ? [to] : []);

type StartRow = JobRow & { from_status: JobStatus; exhausted: boolean };
type Op = { kind: 'start'; id: string; workerId: string } | { kind: 'finish'; outcome: AttemptOutcome };
type OpResult = StartedAttempt | JobRow | null;

/**
 * Batched start and finish of attempts, shared by all tasks of one worker process. Starts and
 * finishes waiting together go in one transaction and one round trip: a worker at steady
 * state finishes one job as it starts the next, so this halves its commits.
 */
export class Transitions {
  private readonly ops: Batcher<Op, OpResult>;

  constructor(private readonly pool: Pool) {
    // Two batches at a time: what arrives meanwhile goes together in the next, so batches grow
    // with load instead of splitting into more, smaller transactions, and a start need not
    // wait behind a finish still committing (one at a time: bench dispatch (c) 3,849 jobs/s;
    // two: 4,675, with PostgreSQL's commit latency on the critical path of every job).
    this.ops = new Batcher({ maxBatch: 1000, maxInFlight: 2, run: (items) => this.run(items) });
  }

  /** Starts an attempt; null when the job is not startable (finished, cancelled, or unknown). */
  start(id: string, workerId: string): Promise<StartedAttempt | null> {
    return this.ops.add({ kind: 'start', id, workerId }).then((r) => (r !== null && 'row' in r ? r : null));
  }

  /** Ends an attempt; the job as it now is, or null when the attempt was no longer current (nothing changed). */
  finish(outcome: AttemptOutcome): Promise<JobRow | null> {
    return this.ops.add({ kind: 'finish', outcome }).then((r) => (r !== null && !('row' in r) ? r : null));
  }

  private async run(ops: Op[]): Promise<OpResult[]> {
    const starts: { id: string; workerId: string }[] = [];
    const finishes: AttemptOutcome[] = [];
    for (const op of ops) {
      if (op.kind === 'start') starts.push(op);
      else finishes.push(op.outcome);
    }
    // Rows are locked in id order in both statements, so two batches in flight that share a
    // job (a duplicate delivery) wait for each other instead of deadlocking.
    starts.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    finishes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // Finishes first: a stale duplicate start of a job finishing in the same batch then finds
    // it finished, instead of handing it back and discarding the attempt that just succeeded.
    const queries = [
      ...(finishes.length > 0 ? [finishStatement(finishes)] : []),
      ...(starts.length > 0 ? [startStatement(starts)] : []),
    ];
    const results = await systemBatch(this.pool, [finishes.length > 0 ? PLAN : PLAN_NO_FLUSH, ...queries]);
    const finished = new Map(finishes.length > 0 ? (results[1]!.rows as JobRow[]).map((r) => [r.id, r]) : []);
    const startRows = starts.length > 0 ? (results[results.length - 1]!.rows as StartRow[]) : [];
    const byId = new Map(startRows.map((r) => [r.id, r]));
    // A duplicate delivery in the same batch gets null: only one of them runs the attempt.
    const seen = new Set<string>();
    return ops.map((op) => {
      if (op.kind === 'finish') return finished.get(op.outcome.id) ?? null;
      const r = byId.get(op.id);
      if (!r || seen.has(op.id)) return null;
      seen.add(op.id);
      const { from_status, exhausted, ...row } = r;
      return { row: row as JobRow, fromStatus: from_status, exhausted };
    });
  }
}

function startStatement(items: { id: string; workerId: string }[]): QueryConfig {
  return { name: 'enrichd_start_attempts_v1', text: START_ATTEMPTS, values: [items.map((i) => i.id), items.map((i) => i.workerId), NOT_STARTABLE] };
}

function finishStatement(items: AttemptOutcome[]): QueryConfig {
  return {
    name: 'enrichd_finish_attempts_v5',
    text: FINISH_ATTEMPTS,
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
      NOT_RUNNING,
      items.map((o) => o.progress?.total ?? null),
      FROM_RUNNING('pending'),
      items.map((o) => o.unspend === true),
      items.map((o) => o.note ?? null),
    ],
  };
}
