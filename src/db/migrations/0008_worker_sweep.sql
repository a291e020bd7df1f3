-- The leader's worker sweep (src/queue/worker-sweep.ts): a worker silent for three heartbeat
-- intervals is marked dead, and its running jobs are handed back until none is left.
--
-- dead_at apart from stopped_at: a stopped worker said goodbye (its attempts were finished or
-- handed back at shutdown); a dead one did not, and may come back (a frozen process, a long
-- pause), in which case its next heartbeat clears dead_at.
-- jobs_recovered_at: set once a sweep found none of the dead worker's jobs left running, so
-- later sweeps stop looking for them in enrichment_jobs (no index serves that lookup, and
-- dead workers are rare: it runs for a few ticks after a death, not every tick). The table
-- itself holds one row per worker ever started, small enough to scan each tick.
ALTER TABLE enrichment_workers
  ADD COLUMN dead_at timestamptz,
  ADD COLUMN jobs_recovered_at timestamptz;

