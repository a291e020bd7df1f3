// The retention sweep, a leader duty: deletes what is older than its retention, in batches of
// RETENTION_BATCH_SIZE rows per statement (each its own short transaction), until nothing is
// left or the tick's time budget is spent; the next sweep goes on where this one stopped.
// Never an unfinished job, a pending delivery or a job younger than its retention: the
// tenant's own (PUT /v1/retention, only ever shorter) or RETENTION_JOBS_DAYS.
import type { Logger } from 'pino';
import type { RetentionConfig } from '../config.js';
import type { Pool } from '../db/pool.js';
import * as sql from './sql.js';

const DAY_MS = 86_400_000;
/** Cache rows are kept this long past their expiry. */
export const CACHE_GRACE_MS = 3_600_000;

export interface RetentionSweepOptions {
  pool: Pool;
  retention: Pick<RetentionConfig, 'jobsDays' | 'deliveriesDays' | 'exportsDays' | 'auditDays' | 'providerCallsDays' | 'batchSize'>;
  /** most time one run spends before it stops between statements (default 10 s) */
  budgetMs?: number;
  log?: Logger;
}

/** What one run removed: rows per table, statements, and whether it finished everything due. */
export interface RetentionOutcome {
  deleted: Record<string, number>;
  statements: number;
  complete: boolean;
}

type Phase = (now: number) => Promise<unknown>;

/** Deletes expired rows in bounded batches. */
export class RetentionSweep {
  private stopping = false;
  private deadline = 0;
  private outcome: RetentionOutcome = { deleted: {}, statements: 0, complete: true };

  constructor(private readonly opts: RetentionSweepOptions) {}

  /** Asks a running sweep to stop after its current statement. */
  stop(): void {
    this.stopping = true;
  }

  /** One sweep, with `now` as the present (tests move it forward). */
  async run(now = new Date()): Promise<RetentionOutcome> {
    this.stopping = false;
    this.deadline = Date.now() + (this.opts.budgetMs ?? 10_000);
    this.outcome = { deleted: {}, statements: 0, complete: true };
    const t = now.getTime();
    // Cheap, bounded phases first; jobs (the largest) last, resumed by the next sweep if cut short.
    const phases: Phase[] = [
      (n) => this.repeat('provider_cache', sql.EXPIRED_CACHE, [new Date(n - CACHE_GRACE_MS)]),
      (n) => this.repeat('audit_log', sql.OLD_AUDIT, [this.cutoff(n, this.opts.retention.auditDays)]),
      (n) => this.repeat('provider_calls', sql.OLD_PROVIDER_CALLS, [this.cutoff(n, this.opts.retention.providerCallsDays)]),
      // per tenant: each statement computes every tenant's cutoff from now and the deployment's days
      (n) => this.repeat('webhook_deliveries', sql.OLD_DELIVERIES, [new Date(n), this.opts.retention.deliveriesDays]),
      (n) => this.exports(new Date(n)),
      (n) => this.jobs(new Date(n)),
    ];
    for (const phase of phases) {
      if (!this.more()) break;
      await phase(t);
    }
    const out = this.outcome;
    const total = Object.values(out.deleted).reduce((a, b) => a + b, 0);
    if (total > 0) this.opts.log?.info({ deleted: out.deleted, statements: out.statements, complete: out.complete }, 'retention sweep deleted expired rows');
    return out;
  }

  private cutoff(now: number, days: number): Date {
    return new Date(now - days * DAY_MS);
  }

  /** Whether there is time for another statement; a run cut short is marked incomplete. */
  private more(): boolean {
    const ok = !this.stopping && Date.now() < this.deadline;
    if (!ok) this.outcome.complete = false;
    return ok;
  }

  private count(table: string, n: number): void {
    this.outcome.statements++;
    if (n > 0) this.outcome.deleted[table] = (this.outcome.deleted[table] ?? 0) + n;
  }

  /** Runs a batch DELETE until it removes less than a batch. */
  private async repeat(table: string, statement: string, params: unknown[]): Promise<boolean> {
    const batch = this.opts.retention.batchSize;
    for (;;) {
      const { rowCount } = await this.opts.pool.query(statement, [...params, batch]);
      this.count(table, rowCount ?? 0);
      if ((rowCount ?? 0) < batch) return true;
      if (!this.more()) return false;
    }
  }

  /** Finished exports past their retention: file parts in batches, then the export rows (the jobs stay). */
  private async exports(now: Date): Promise<void> {
    const batch = this.opts.retention.batchSize;
    for (;;) {
      const { rows } = await this.opts.pool.query<{ id: string }>(sql.OLD_EXPORTS, [now, batch, sql.FINISHED, this.opts.retention.exportsDays]);
      if (rows.length === 0) return;
      const ids = rows.map((r) => r.id);
      if (!(await this.repeat('export_parts', sql.EXPORT_PARTS, [ids]))) return;
      const { rowCount } = await this.opts.pool.query(sql.DELETE_EXPORTS, [ids]);
      this.count('exports', rowCount ?? 0);
      if (rows.length < batch || !this.more()) return;
    }
  }

  /** Finished jobs past their retention: each child table in batches, then the jobs. */
  private async jobs(now: Date): Promise<void> {
    const batch = this.opts.retention.batchSize;
    for (;;) {
      const { rows } = await this.opts.pool.query<{ id: string; cutoff: Date }>(sql.OLD_JOBS, [now, batch, sql.FINISHED, this.opts.retention.jobsDays]);
      if (rows.length === 0) return;
      const ids = rows.map((r) => r.id);
      for (const child of sql.JOB_CHILDREN) {
        if (!(await this.repeat(child.table, child.sql, [ids]))) return;
      }
      const { rowCount } = await this.opts.pool.query(sql.DELETE_JOBS, [ids, rows.map((r) => r.cutoff), sql.FINISHED]);
      this.count('enrichment_jobs', rowCount ?? 0);
      if (rows.length < batch || !this.more()) return;
    }
  }
}
