// The statements of list jobs' chunks: planning, the window in Redis, and a chunk's own work.

/** A job's chunks so far: how many, and how many are not done. */
export const CHUNK_COUNTS = `
SELECT count(*)::int AS total, count(*) FILTER (WHERE state <> 'done')::int AS open
FROM list_job_chunks WHERE job_id = $1::uuid`;

// Tops the job's window up to $2 queued chunks, lowest numbers first; returns every queued one.
export const FILL_WINDOW = `
WITH released AS (
  UPDATE list_job_chunks SET state = 'queued'
  WHERE job_id = $1::uuid AND seq IN (
    SELECT seq FROM list_job_chunks WHERE job_id = $1::uuid AND state = 'waiting'
    ORDER BY seq
    LIMIT greatest(0, $2::int - (SELECT count(*) FROM list_job_chunks WHERE job_id = $1::uuid AND state = 'queued'))
  )
  RETURNING seq
)
SELECT seq FROM released
UNION
SELECT seq FROM list_job_chunks WHERE job_id = $1::uuid AND state = 'queued'`;

export const QUEUED_CHUNKS = `SELECT seq FROM list_job_chunks WHERE job_id = $1::uuid AND state = 'queued' ORDER BY seq`;

// What a chunk needs to run, read in one flight: the job, its plan, the chunk and its entries.
export const CHUNK_JOB = `
SELECT id, tenant_id, type, status, priority, attempts, round_base, max_attempts, payload FROM enrichment_jobs WHERE id = $1::uuid`;
export const CHUNK_PLAN = `
SELECT p.steps, p.error_threshold::float8 AS error_threshold
FROM enrichment_jobs j JOIN enrichment_plans p ON p.id = (j.payload->>'planId')::uuid
WHERE j.id = $1::uuid`;
export const CHUNK_ROW = `
SELECT state, entry_count FROM list_job_chunks WHERE job_id = $1::uuid AND seq = $2::int`;
export const CHUNK_ENTRIES = `
SELECT e.id::text AS id, e.data
FROM list_job_chunks c
JOIN list_entries e ON e.list_id = c.list_id AND e.id BETWEEN c.first_entry_id AND c.last_entry_id
WHERE c.job_id = $1::uuid AND c.seq = $2::int AND c.state <> 'done'
  AND (c.entry_ids IS NULL OR e.id = ANY (c.entry_ids))
ORDER BY e.id`;

// The chunk's commit, in order: claim the chunk (a second run finds it done and changes
// nothing), write the results, move the job's counters (only while it runs: a cancelled job
// keeps what it has, and this chunk's results roll back), release the next chunk.
export const CLAIM_CHUNK = `
UPDATE list_job_chunks SET state = 'done', done_at = now(), outcomes = $3::jsonb
WHERE job_id = $1::uuid AND seq = $2::int AND state <> 'done'
RETURNING entry_count`;

export const COUNT_CHUNK = `
UPDATE enrichment_jobs SET
  progress_processed = progress_processed + $2::int,
  progress_succeeded = progress_succeeded + $3::int,
  progress_failed = progress_failed + $4::int,
  updated_at = now()
WHERE id = $1::uuid AND status = 'running'
RETURNING *`;

// Results travel as one JSON array: one JSON.stringify in the worker and one parse in
// PostgreSQL, instead of encoding and parsing an array literal of JSON texts, element by
// element. A row's list is its own `l` (leads by entry id span lists) or, for a chunk, $3.
// A second run over an entry (a retry of failed entries) merges into its row.
export const WRITE_RESULTS = `
INSERT INTO entry_results (entry_id, job_id, tenant_id, list_id, results, outcomes, errors)
SELECT r.e, $1::uuid, $2::uuid, COALESCE(r.l, $3::uuid), r.r, r.o, r.x
FROM json_to_recordset($4::json) AS r(e bigint, l uuid, r json, o json, x json)
ON CONFLICT (entry_id, job_id) DO UPDATE SET
  results = (entry_results.results::jsonb || EXCLUDED.results::jsonb)::json,
  outcomes = (entry_results.outcomes::jsonb || EXCLUDED.outcomes::jsonb)::json,
  errors = EXCLUDED.errors,
  updated_at = now()`;

export const RELEASE_NEXT = `
UPDATE list_job_chunks SET state = 'queued'
WHERE job_id = $1::uuid AND seq = (
  SELECT seq FROM list_job_chunks WHERE job_id = $1::uuid AND state = 'waiting' ORDER BY seq LIMIT 1
)
RETURNING seq`;

// Counts per step and outcome as the sum of the chunks' own counts; only when no chunks overlap
// (CHUNKS_OVERLAP: a re-run of failed entries, or chunks older than their counts), else SUMMARY.
export const SUMMARY_FROM_CHUNKS = `
SELECT o.key AS step, l.key AS label, sum(l.value::int)::int AS n
FROM list_job_chunks c
CROSS JOIN LATERAL jsonb_each(c.outcomes) o
CROSS JOIN LATERAL jsonb_each_text(o.value) l
WHERE c.job_id = $1::uuid
GROUP BY 1, 2`;

export const CHUNKS_OVERLAP = `
SELECT EXISTS (SELECT 1 FROM list_job_chunks WHERE job_id = $1::uuid AND (entry_ids IS NOT NULL OR outcomes IS NULL)) AS overlap`;

// Counts per step and outcome over every entry the job has results for.
export const SUMMARY = `
SELECT o.key AS step, o.value AS label, count(*)::int AS n
FROM entry_results r CROSS JOIN LATERAL json_each_text(r.outcomes) o
WHERE r.job_id = $1::uuid
GROUP BY 1, 2`;

// The last chunk ends the job in its own transaction, so no crash can leave it running.
export const END_JOB = `
WITH upd AS (
  UPDATE enrichment_jobs SET
    status = $2::text,
    result = CASE WHEN $2::text = 'completed' THEN $3::jsonb ELSE result END,
    last_error = COALESCE($4::jsonb, last_error),
    completed_at = now(),
    updated_at = now()
  WHERE id = $1::uuid AND status = 'running'
  RETURNING *
), ev AS (
  INSERT INTO enrichment_job_events (job_id, tenant_id, from_status, to_status, attempt, worker_id, message)
  SELECT id, tenant_id, 'running', $2::text, attempts, $5::text, $4::jsonb->>'message' FROM upd
)
SELECT * FROM upd`;
