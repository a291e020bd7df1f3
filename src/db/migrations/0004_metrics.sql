-- Indexes for the tenant's metrics (GET /v1/enrichment/jobs/metrics) and the oldest-waiting
-- gauge of /metrics, sized for a million jobs. Only two: the counts by status (finished and
-- unfinished, and the queue depth) read 0003's (tenant_id, status, created_at, id) index,
-- which a third index here would only duplicate.
--
-- What they cost: every status change already rewrites the row outside HOT (status is in
-- existing indexes), so each update adds an entry to every index whose predicate the new row
-- matches. Both are partial, so a job pays for each only in the states it covers:
-- finished_idx once, when the job finishes (completed, failed or cancelled); waiting_idx at
-- the submit and at each retry. Two or three index entries over a job's life, beside the
-- dozen it writes now. Their columns never change while a job runs, so the progress updates
-- of list jobs stay HOT-eligible. Built inside the migration's transaction: on a live table
-- of millions of rows, writes to enrichment_jobs wait for the build (seconds).

-- Finished jobs by tenant and end time: series, throughput, rates and durations over the
-- window, read from the index alone (status, type and started_at ride along). completed_at is
-- set exactly when a job becomes completed, failed or cancelled.
CREATE INDEX enrichment_jobs_finished_idx ON enrichment_jobs (tenant_id, completed_at)
  INCLUDE (status, type, started_at)
  WHERE completed_at IS NOT NULL;

-- Waiting jobs by the moment they became due, across tenants: the oldest-waiting gauge reads
-- the first entry. The expression must match the gauge's query (src/observability/metric-sources.ts).
CREATE INDEX enrichment_jobs_waiting_idx ON enrichment_jobs ((COALESCE(retry_at, GREATEST(created_at, run_at))))
  WHERE status IN ('pending', 'retrying');
