// TENANT_MAX_ACTIVE: at most N tasks of one tenant in Redis; the rest wait in PostgreSQL, released in turn.
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import { BY_PRIMARY_KEY, systemBatch } from '../db/transaction.js';
import type { JobRow } from '../jobs/job.js';
import type { Dispatchable } from './queue.js';

/** What Fairness needs of the Dispatcher: a plain add to BullMQ, no dispatched_at mark. */
export interface TaskAdder {
  addReleased(tasks: Dispatchable[]): Promise<boolean>;
}

type Row = Pick<JobRow, 'id' | 'tenant_id' | 'type' | 'priority' | 'status' | 'run_at' | 'retry_at'>;

// A tenant's releases are serialised by a transaction-level advisory lock (first key: our
// namespace, second: the tenant), taken in a statement of its own so that the release
// statement's snapshot, taken after it, sees every release committed before. Locks are taken
// in key order, so two releasers of overlapping tenant sets cannot deadlock.
const LOCK_NAMESPACE = 0x656e7264; // 'enrd'
const LOCK_TENANTS = `
SELECT count(*) FROM (
  SELECT pg_advisory_xact_lock($2::int, k)
  FROM (SELECT DISTINCT hashtext(t::text) AS k FROM unnest($1::uuid[]) AS t) s
  ORDER BY k
) l`;

// The active set of a tenant: its unfinished jobs with dispatched_at set (queued, delayed,
// running, retrying). Its free slots go to its waiting jobs in priority then FIFO order; a
// scheduled job waits until it is due instead of holding a slot as a delayed task. Both
// lookups are ranges of the 0005 partial indexes. The UPDATE re-checks each row (a cancel or
// a start may have got there first).
const RELEASE = `
WITH t AS (
  SELECT DISTINCT unnest($1::uuid[]) AS tenant_id
), free AS (
  SELECT t.tenant_id, $2::int - (
    SELECT count(*) FROM enrichment_jobs a
    WHERE a.tenant_id = t.tenant_id AND a.dispatched_at IS NOT NULL
      AND a.status IN ('pending', 'scheduled', 'running', 'retrying'))::int AS slots
  FROM t
), pick AS (
  SELECT w.id FROM free f CROSS JOIN LATERAL (
    SELECT w.id FROM enrichment_jobs w
    WHERE w.tenant_id = f.tenant_id AND w.dispatched_at IS NULL AND w.status IN ('pending', 'scheduled')
      AND (w.status = 'pending' OR w.run_at <= now())
    ORDER BY w.priority, w.created_at
    LIMIT greatest(f.slots, 0)
  ) w
)
UPDATE enrichment_jobs j SET dispatched_at = now()
FROM pick p
WHERE j.id = p.id AND j.dispatched_at IS NULL AND j.status IN ('pending', 'scheduled')
RETURNING j.id, j.tenant_id, j.type, j.priority, j.status, j.run_at, j.retry_at`;

// Undoes releases whose tasks Redis refused, so they do not hold slots; a job a worker
// started meanwhile (the add did land after all) keeps its mark.
const UNRELEASE = `
UPDATE enrichment_jobs SET dispatched_at = NULL
WHERE id = ANY($1::uuid[]) AND status <> ALL($2::text[])`;
const NOT_UNRELEASABLE = ['running', 'retrying', 'completed', 'failed', 'cancelled'];

// Tenants with waiting jobs, one index probe each (a loose index scan of the waiting index).
const WAITING_TENANTS = `
WITH RECURSIVE t AS (
  (SELECT tenant_id FROM enrichment_jobs
   WHERE dispatched_at IS NULL AND status IN ('pending', 'scheduled')
   ORDER BY tenant_id LIMIT 1)
  UNION ALL
  SELECT (SELECT j.tenant_id FROM enrichment_jobs j
          WHERE j.tenant_id > t.tenant_id AND j.dispatched_at IS NULL AND j.status IN ('pending', 'scheduled')
          ORDER BY j.tenant_id LIMIT 1)
  FROM t WHERE t.tenant_id IS NOT NULL
)
SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL LIMIT $1::int`;

// Released jobs not yet started, of tenants that have others waiting: a crash between the
// release and the add to Redis would leave them holding slots with no task. Adding them again
// is idempotent (the task id is the job id), so the relay does it for every such job older
// than a grace that an ordinary release-then-add never takes.
const STALE_RELEASED = `
SELECT s.id, s.tenant_id, s.type, s.priority, s.status, s.run_at, s.retry_at
FROM unnest($1::uuid[]) AS t(tenant_id) CROSS JOIN LATERAL (
  SELECT a.id, a.tenant_id, a.type, a.priority, a.status, a.run_at, a.retry_at
  FROM enrichment_jobs a
  WHERE a.tenant_id = t.tenant_id AND a.dispatched_at IS NOT NULL
    AND a.status IN ('pending', 'scheduled')
    AND a.dispatched_at < now() - make_interval(secs => $2::float8 / 1000)
) s`;
const STALE_AFTER_MS = 2000;
// A release need not wait for the WAL flush: lost in a PostgreSQL crash, its jobs are waiting
// again, and a task already added for one is started anyway (the start marks it dispatched),
// at worst a brief overshoot of the cap. It is on the path of every capped job, so it counts.
const RELEASE_SETTINGS = `${BY_PRIMARY_KEY}, set_config('synchronous_commit', 'off', true)`;
const TENANTS_PER_RELEASE = 500;

function toTask(r: Row): Dispatchable {
  const at = r.status === 'scheduled' ? r.run_at : null;
  return { id: r.id, tenantId: r.tenant_id, type: r.type, priority: r.priority, delayMs: at ? Math.max(0, at.getTime() - Date.now()) : 0 };
}

/**
 * Releases waiting jobs up to each tenant's free slots: marks them dispatched in PostgreSQL
 * first (that mark is the count), then adds their tasks. A crash in between leaves released
 * jobs without tasks; the relay's stale check (and the reconciler's sweep) adds them again.
 */
export class Fairness {
  private readonly due = new Set<string>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly adder: TaskAdder,
    private readonly log: Logger,
    readonly maxActive: number,
  ) {}

  /** Releases the tenants' next jobs up to their free slots and queues them; returns how many were queued. */
  async release(tenantIds: string[]): Promise<number> {
    if (tenantIds.length === 0) return 0;
    const results = await systemBatch(this.pool, [
      RELEASE_SETTINGS,
      { text: LOCK_TENANTS, values: [tenantIds, LOCK_NAMESPACE] },
      { text: RELEASE, values: [tenantIds, this.maxActive] },
    ]);
    const rows = results[2]!.rows as Row[];
    if (rows.length === 0) return 0;
    if (await this.adder.addReleased(rows.map(toTask))) return rows.length;
    await this.pool.query(UNRELEASE, [rows.map((r) => r.id), NOT_UNRELEASABLE]).catch((err: Error) => {
      this.log.warn({ err: { message: err.message }, jobs: rows.length }, 'undoing releases failed; the relay re-adds them');
    });
    return 0;
  }

  /**
   * A task of the tenant ended: release its next soon. Calls arriving while a release runs
   * are gathered into the next, so a busy worker pays one statement per batch of finishes.
   */
  releaseSoon(tenantId: string): void {
    this.due.add(tenantId);
    if (this.running) return;
    this.running = (async () => {
      while (this.due.size > 0) {
        const tenants = [...this.due];
        this.due.clear();
        try {
          await this.release(tenants);
        } catch (err) {
          // Left to the relay's next tick, which releases every tenant with waiting jobs.
          this.log.warn({ err: { message: (err as Error).message }, tenants: tenants.length }, 'releasing next jobs failed; the relay will');
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** Waits for releases in progress (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * The relay's pass under the cap: re-adds stale releases of tenants with waiting jobs, then
   * releases their free slots. Returns how many jobs were released.
   */
  async relay(maxTenants = 10_000): Promise<number> {
    const { rows } = await this.pool.query<{ tenant_id: string }>(WAITING_TENANTS, [maxTenants]);
    let total = 0;
    for (let i = 0; i < rows.length; i += TENANTS_PER_RELEASE) {
      const tenants = rows.slice(i, i + TENANTS_PER_RELEASE).map((r) => r.tenant_id);
      const stale = await this.pool.query<Row>(STALE_RELEASED, [tenants, STALE_AFTER_MS]);
      // Not counted: most are still in Redis, and BullMQ ignores their second add.
      if (stale.rows.length > 0) await this.adder.addReleased(stale.rows.map(toTask));
      total += await this.release(tenants);
    }
    return total;
  }
}
