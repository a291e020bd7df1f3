-- TENANT_MAX_ACTIVE: per-tenant lookups of the fairness release (src/queue/fairness.ts).
--
-- Both indexes are partial, so each holds only the rows it is asked about, and a job passes
-- through them briefly. Their cost falls on every deployment, capped or not: a submit adds one
-- entry (to the waiting index), and each later write of an unfinished, dispatched job that is
-- not a HOT update (the dispatched_at mark, the attempt's start; status and dispatched_at are
-- in the predicates, so those writes are never HOT anyway) adds one to the active index. A
-- finished job leaves both. With no cap, the waiting index stays as small as the relay's own
-- (jobs live in it for the ~100 ms until their mark), and nothing reads either index.

-- A tenant's waiting jobs in release order (priority, then FIFO); also the loose index scan
-- of tenants with waiting jobs (its leading column).
CREATE INDEX enrichment_jobs_tenant_waiting_idx ON enrichment_jobs (tenant_id, priority, created_at)
  WHERE dispatched_at IS NULL AND status IN ('pending', 'scheduled');

-- A tenant's active set: released (or started) and unfinished, counted on every release.
CREATE INDEX enrichment_jobs_tenant_active_idx ON enrichment_jobs (tenant_id)
  WHERE dispatched_at IS NOT NULL AND status IN ('pending', 'scheduled', 'running', 'retrying');
