// Where the scrape-time gauges read: BullMQ's counts and the oldest due job in PostgreSQL.
import type { Pool } from '../db/pool.js';
import type { JobQueue } from '../queue/queue.js';
import type { MetricSources } from './metrics.js';

// The due moment of a waiting job: a retry's time, else its creation or runAt, whichever is
// later. The same expression as enrichment_jobs_waiting_idx (0004), so min() is the index's
// first entry, however long the backlog.
const OLDEST_WAITING = `
SELECT COALESCE(extract(epoch FROM now() - min(COALESCE(retry_at, GREATEST(created_at, run_at)))), 0)::float8 AS seconds
FROM enrichment_jobs WHERE status IN ('pending', 'retrying')`;

/** Sources for a process that has the queue and the pool. */
export function metricSources(queue: JobQueue, pool: Pool): MetricSources {
  return {
    async queueDepth() {
      const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
      // BullMQ keeps tasks with a priority apart from plain waiting ones; both wait for a worker.
      return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0 };
    },
    async oldestWaitingSeconds() {
      const { rows } = await pool.query<{ seconds: number }>(OLDEST_WAITING);
      // The earliest due moment is in the future when only retries not yet due remain.
      return Math.max(0, rows[0]?.seconds ?? 0);
    },
  };
}
