// The relay: queues jobs that were recorded while Redis was down (dispatched_at still null).
import type { Pool } from '../db/pool.js';
import type { JobRow } from '../jobs/job.js';
import { type Dispatcher, dispatchableFromRow } from './dispatch.js';

const PAGE = 1000;

// Younger rows are most likely mid-dispatch by the API that recorded them.
const UNDISPATCHED = `
SELECT id, tenant_id, type, priority, status, run_at, retry_at
FROM enrichment_jobs
WHERE dispatched_at IS NULL AND status IN ('pending', 'scheduled')
  AND created_at < now() - interval '300 milliseconds'
ORDER BY created_at
LIMIT $1::int`;

type Row = Pick<JobRow, 'id' | 'tenant_id' | 'type' | 'priority' | 'status' | 'run_at' | 'retry_at'>;

/** Queues every undispatched job, page by page; returns how many were queued. */
export async function relayUndispatched(pool: Pool, dispatcher: Dispatcher, maxPages = 20): Promise<number> {
  // Under TENANT_MAX_ACTIVE an undispatched job is mostly one waiting its turn, not a lost add.
  if (dispatcher.fairness) return dispatcher.fairness.relay();
  let total = 0;
  for (let page = 0; page < maxPages; page++) {
    const { rows } = await pool.query<Row>(UNDISPATCHED, [PAGE]);
    if (rows.length === 0) break;
    const ok = await dispatcher.dispatch(rows.map((r) => dispatchableFromRow(r)));
    if (!ok) break;
    await dispatcher.flush();
    total += rows.length;
    if (rows.length < PAGE) break;
  }
  return total;
}
