// Records submitted jobs in PostgreSQL and queues them in BullMQ, in batches per tenant.
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import { tenantBatch, withTenant } from '../db/transaction.js';
import type { JobRow } from '../jobs/job.js';
import { type NewJob, type RecordedJob, insertJobs, insertJobsStatement, insertedJobs } from '../jobs/repository.js';
import type { EventPublisher } from '../events/stream.js';
import type { Metrics } from '../observability/metrics.js';
import { Batcher } from '../util/batcher.js';
import { type Dispatcher, dispatchableFromRow } from './dispatch.js';

export interface SubmitterOptions {
  pool: Pool;
  appRole: string;
  dispatcher: Dispatcher;
  log: Logger;
  maxBatch: number;
  /** counts recorded jobs; absent where a test builds a submitter without one */
  metrics?: Metrics;
  /** announces recorded jobs (job.created) */
  events?: EventPublisher;
}

/**
 * Concurrent submits of one tenant share one transaction (one insert ... from unnest) and one
 * addBulk. A caller is answered only after its batch committed, so nothing acknowledged is lost.
 */
export class Submitter {
  private readonly byTenant = new Map<string, Batcher<NewJob, RecordedJob | Error>>();

  constructor(private readonly opts: SubmitterOptions) {}

  /** Records one job (or finds its idempotent twin) and tries to queue it. */
  submit(tenantId: string, job: NewJob): Promise<RecordedJob> {
    let batcher = this.byTenant.get(tenantId);
    if (!batcher) {
      batcher = new Batcher<NewJob, RecordedJob | Error>({
        maxBatch: this.opts.maxBatch,
        maxInFlight: 3,
        run: (jobs) => this.record(tenantId, jobs),
      });
      this.byTenant.set(tenantId, batcher);
    }
    const result = batcher.add(job).then((r) => {
      if (r instanceof Error) throw r;
      return r;
    });
    void result.finally(() => {
      if (batcher.size === 0) this.byTenant.delete(tenantId);
    }).catch(() => undefined);
    return result;
  }

  private async record(tenantId: string, jobs: NewJob[]): Promise<(RecordedJob | Error)[]> {
    const recorded = await this.insert(tenantId, jobs);
    const fresh = recorded.filter((r): r is RecordedJob => !(r instanceof Error) && r.created).map((r) => r.row);
    for (const row of fresh) this.opts.metrics?.jobSubmitted(row.type);
    this.opts.events?.publish(fresh.map((row) => ({ type: 'job.created' as const, row })));
    const queued = await this.queue(tenantId, fresh);
    if (!queued) this.opts.log.warn({ tenantId, jobs: fresh.length }, 'jobs recorded as pending; Redis unavailable, the relay will queue them');
    return recorded;
  }

  /**
   * Without a cap, the fresh jobs go to Redis now. Under TENANT_MAX_ACTIVE they wait their
   * turn: the tenant's free slots go to its next jobs in priority order, fresh or not.
   */
  private async queue(tenantId: string, fresh: RecordedJob['row'][]): Promise<boolean> {
    const { fairness } = this.opts.dispatcher;
    if (!fairness) return this.opts.dispatcher.dispatch(fresh.map((row) => dispatchableFromRow(row)));
    if (fresh.length === 0) return true;
    return fairness.release([tenantId]).then(
      () => true,
      (err: Error) => {
        this.opts.log.warn({ tenantId, err: { message: err.message } }, 'releasing jobs failed');
        return false;
      },
    );
  }

  /**
   * Inserts the batch in one transaction. If that fails, each job is tried alone, so one
   * row the database refuses fails only its own request, never its batch-mates'.
   */
  private async insert(tenantId: string, jobs: NewJob[]): Promise<(RecordedJob | Error)[]> {
    const { pool, appRole } = this.opts;
    // Without idempotency keys the insert needs no answer before COMMIT, so the whole
    // transaction goes out in one write and costs one round trip.
    const one = (batch: NewJob[]) =>
      batch.every((j) => j.idempotencyKey === null)
        ? tenantBatch(pool, appRole, tenantId, [insertJobsStatement(tenantId, batch)]).then(([r]) => insertedJobs(batch, r!.rows as JobRow[]))
        : withTenant(pool, appRole, tenantId, (tx) => insertJobs(tx, tenantId, batch));
    try {
      return await one(jobs);
    } catch (err) {
      if (jobs.length === 1) return [err as Error];
      this.opts.log.warn({ tenantId, jobs: jobs.length, err: { message: (err as Error).message } }, 'batch insert failed; recording its jobs one by one');
      return Promise.all(jobs.map((j) => one([j]).then((r) => r[0]!, (e: unknown) => (e instanceof Error ? e : new Error(String(e))))));
    }
  }
}
