// Runs one chunk of a list job: read its entries, run the plan, write everything in one commit.
import type { Job as Task } from 'bullmq';
import type { Logger } from 'pino';
import type { Pool } from '../../db/pool.js';
import { type Tx, withTenant } from '../../db/transaction.js';
import { type EntryEnrichment, type PlanStep, type StepRunner, StepDeferred, countOutcomes, enrichEntries, planStepsSchema } from '../../enrich/plan.js';
import type { LookupService } from '../../providers/lookup.js';
import type { Entry } from '../../enrich/entry.js';
import { type BackoffPolicy, backoffDelay } from '../../jobs/backoff.js';
import type { JobError, JobRow } from '../../jobs/job.js';
import type { EventPublisher } from '../../events/stream.js';
import { canTransition } from '../../jobs/status.js';
import type { Metrics } from '../../observability/metrics.js';
import { type TaskData, taskOptions, type JobQueue } from '../queue.js';
import { RetryLater } from '../retry-later.js';
import type { Transitions } from '../transitions.js';
import type { ChunkScheduler, ChunkedJob } from './scheduler.js';
import {
  CHUNK_ENTRIES, CHUNK_JOB, CHUNK_PLAN, CHUNK_ROW, CHUNKS_OVERLAP, CLAIM_CHUNK, COUNT_CHUNK, END_JOB, RELEASE_NEXT, SUMMARY, SUMMARY_FROM_CHUNKS,
  WRITE_RESULTS,
} from './sql.js';

// The last chunk moves its job from running to completed or failed: the table must allow both.
if (!canTransition('running', 'completed') || !canTransition('running', 'failed')) throw new Error('status table forbids ending a list job');

interface JobHead {
  id: string;
  tenant_id: string;
  type: string;
  status: string;
  priority: number;
  attempts: number;
  round_base: number;
  max_attempts: number;
  payload: { listId?: string };
}

/** A list job's summary: entries, and counts per step and outcome (class, status, skipped, error). */
export interface ListJobSummary {
  entries: number;
  succeeded: number;
  failed: number;
  steps: Record<string, Record<string, number>>;
}

export interface ChunkRunnerOptions {
  pool: Pool;
  appRole: string;
  queue: JobQueue;
  scheduler: ChunkScheduler;
  transitions: Transitions;
  /** tries of one chunk before its job's attempt fails */
  chunkAttempts: number;
  backoff: BackoffPolicy;
  /** runs each step over an entry; the local steps unless a test replaces them */
  runStep?: StepRunner;
  /** runs `provider` steps (paid lookups); absent: a provider step raises for each entry */
  lookups?: LookupService;
  /** provider lookups in flight at once per chunk (default 16) */
  lookupConcurrency?: number;
  log: Logger;
  /** counts entries and list jobs' ends; absent where a test builds a runner without one */
  metrics?: Metrics;
  /** live events: progress (throttled) and the job's end */
  events?: EventPublisher;
  /** called with the job.progress events above (same throttle): webhook deliveries for endpoints that ask for them */
  onProgress?: (row: JobRow) => void;
}

const PROGRESS_EVERY_MS = 1000;
/** The longest a deferred chunk waits before it looks again (a provider may name a far reset). */
const MAX_DEFER_MS = 60_000;

/** A chunk task's data with the count of its deferrals (waits that are not tries). */
type DeferrableTaskData = TaskData & { deferrals?: number };

/** What a chunk task did. */
export type ChunkOutcome = 'done' | 'job_done' | 'skipped' | 'job_not_running';

/** Runs chunk tasks; shared by the workers of one process. */
export class ChunkRunner {
  private readonly lastProgress = new Map<string, number>();

  constructor(private readonly opts: ChunkRunnerOptions) {}

  /** Runs one chunk task; throws RetryLater while the chunk may be tried again. */
  async run(task: Task<TaskData>, workerId: string): Promise<ChunkOutcome> {
    const chunk = task.data.chunk!;
    let head: JobHead | undefined;
    try {
      const read = await this.read(task.data.tenantId, chunk.jobId, chunk.seq);
      head = read.job;
      if (!head || head.status !== 'running') return 'job_not_running';
      const job = chunkedJob(head);
      if (read.state === 'done') {
        // A duplicate (a retried or stalled task): its window may have lost a task meanwhile.
        await this.opts.scheduler.requeue(job);
        return 'skipped';
      }
      if (read.steps === null) return await this.endWithoutPlan(job, workerId);
      const steps = read.steps;
      const entries = read.entries;
      const lookups = this.opts.lookups;
      const enriched = await enrichEntries(
        steps,
        entries.map((e) => e.data),
        {
          runStep: this.opts.runStep,
          provider: lookups && ((step, entry, i) => lookups.runStep(step, entry, { tenantId: job.tenantId, jobId: job.id, entryKey: entries[i]!.id })),
          concurrency: this.opts.lookupConcurrency,
        },
      );
      return await this.commit(job, head.payload.listId!, chunk.seq, entries, enriched, read.errorThreshold, workerId);
    } catch (err) {
      if (err instanceof StepDeferred) return this.defer(task, err);
      return this.failed(task, head, err, workerId);
    }
  }

  /**
   * A provider lookup must wait (a rate limit, a throttle, an answer due by webhook): the chunk
   * commits nothing and its task goes back to the queue until then, holding no worker slot.
   * The wait is not a try: the task counts its deferrals, and failed() discounts them. On the
   * next run the entries answered meanwhile come from the cache (no call, no credit).
   */
  private async defer(task: Task<TaskData>, deferred: StepDeferred): Promise<never> {
    const data = task.data as DeferrableTaskData;
    await task.updateData({ ...data, deferrals: (data.deferrals ?? 0) + 1 } as DeferrableTaskData);
    throw new RetryLater(Math.max(0, Math.min(MAX_DEFER_MS, deferred.retryAt - Date.now())), `chunk ${data.chunk!.seq} deferred: ${deferred.message}`);
  }

  private async read(tenantId: string, jobId: string, seq: number) {
    return withTenant(this.opts.pool, this.opts.appRole, tenantId, async (tx) => {
      // One flight: pg sends the four statements together inside the transaction.
      const [job, plan, row, entries] = await Promise.all([
        tx.query<JobHead>(CHUNK_JOB, [jobId]),
        tx.query<{ steps: unknown; error_threshold: number }>(CHUNK_PLAN, [jobId]),
        tx.query<{ state: string; entry_count: number }>(CHUNK_ROW, [jobId, seq]),
        tx.query<{ id: string; data: Entry }>(CHUNK_ENTRIES, [jobId, seq]),
      ]);
      const p = plan.rows[0];
      const steps: PlanStep[] | null = p ? planStepsSchema.parse(p.steps) : null;
      return {
        job: job.rows[0],
        steps,
        errorThreshold: p?.error_threshold ?? 1,
        state: row.rows[0]?.state ?? 'done',
        entries: entries.rows,
      };
    });
  }

  private async commit(
    job: ChunkedJob,
    listId: string,
    seq: number,
    entries: { id: string }[],
    enriched: EntryEnrichment[],
    errorThreshold: number,
    workerId: string,
  ): Promise<ChunkOutcome> {
    const failed = enriched.filter((e) => e.errors !== null).length;
    const outcome = await withTenant(this.opts.pool, this.opts.appRole, job.tenantId, async (tx) => {
      // Claim and results go out in one flight; a chunk found done rolls its results back.
      // Results before counters: the job's row is locked from the counters to the commit, and
      // every chunk of the job waits on that lock, so it must be the transaction's short tail.
      const rows = enriched.map((e, i) => ({ e: entries[i]!.id, r: e.results, o: e.outcomes, x: e.errors }));
      const [claimed] = await Promise.all([
        tx.query<{ entry_count: number }>(CLAIM_CHUNK, [job.id, seq, JSON.stringify(countOutcomes(enriched))]),
        tx.query(WRITE_RESULTS, [job.id, job.tenantId, listId, JSON.stringify(rows)]),
      ]);
      if (claimed.rowCount === 0) throw new ChunkDone();
      // Planned entries count as processed even if one was erased meanwhile, so the total is reached.
      const planned = claimed.rows[0]!.entry_count;
      const counted = await tx.query<JobRow>(COUNT_CHUNK, [job.id, planned, planned - failed, failed]);
      const progress = counted.rows[0];
      // Not running (cancelled meanwhile): roll back, so the results above are not kept either.
      if (!progress) throw new JobStopped();
      const total = progress.progress_total;
      // Past the threshold already: no later chunk can bring the share of failures back under it.
      if (total > 0 && progress.progress_failed / total > errorThreshold) {
        const error: JobError = {
          message: `${progress.progress_failed} of ${total} entries failed, more than the plan's errorThreshold of ${errorThreshold}`,
          code: 'error_threshold',
          at: new Date().toISOString(),
        };
        const ended = await tx.query<JobRow>(END_JOB, [job.id, 'failed', null, JSON.stringify(error), workerId]);
        return { kind: 'job_done' as const, ended: 'failed' as const, row: ended.rows[0] };
      }
      if (progress.progress_processed >= total) {
        const summary = await summarise(tx, job.id, progress.progress_processed, progress.progress_failed);
        const ended = await tx.query<JobRow>(END_JOB, [job.id, 'completed', JSON.stringify(summary), null, workerId]);
        return { kind: 'job_done' as const, ended: 'completed' as const, row: ended.rows[0] };
      }
      const next = await tx.query<{ seq: number }>(RELEASE_NEXT, [job.id]);
      return { kind: 'done' as const, next: next.rows[0]?.seq, row: progress };
    }).catch((err: unknown) => {
      if (err instanceof JobStopped) return { kind: 'job_not_running' as const };
      if (err instanceof ChunkDone) return { kind: 'skipped' as const };
      throw err;
    });
    if (outcome.kind === 'done' || outcome.kind === 'job_done') this.opts.metrics?.entriesProcessed(enriched.length - failed, failed);
    if (outcome.kind === 'job_done') this.opts.metrics?.attemptEnded(job.type, outcome.ended, null);
    if (outcome.kind === 'job_done' && outcome.row) this.opts.events?.publish([{ type: outcome.ended === 'completed' ? 'job.completed' : 'job.failed', row: outcome.row }]);
    if (outcome.kind === 'done') this.progressed(outcome.row);
    if (outcome.kind === 'skipped') await this.opts.scheduler.requeue(job);
    if (outcome.kind === 'done' && outcome.next !== undefined) await this.opts.scheduler.add(job, [outcome.next]);
    return outcome.kind;
  }

  /** A job.progress event, at most once a second per job from this process (a chunk may take milliseconds). */
  private progressed(row: JobRow): void {
    if (!this.opts.events && !this.opts.onProgress) return;
    const now = Date.now();
    if (now - (this.lastProgress.get(row.id) ?? 0) < PROGRESS_EVERY_MS) return;
    this.lastProgress.set(row.id, now);
    if (this.lastProgress.size > 10_000) this.lastProgress.clear();
    this.opts.events?.publish([{ type: 'job.progress', row }]);
    this.opts.onProgress?.(row);
  }

  /** The job's plan is gone (removed with its tenant's data): no retry can mend that. */
  private async endWithoutPlan(job: ChunkedJob, workerId: string): Promise<ChunkOutcome> {
    const error: JobError = { message: 'the job\'s plan no longer exists', code: 'plan_not_found', at: new Date().toISOString() };
    const ended = await withTenant(this.opts.pool, this.opts.appRole, job.tenantId, (tx) => tx.query<JobRow>(END_JOB, [job.id, 'failed', null, JSON.stringify(error), workerId]));
    if (ended.rowCount) this.opts.metrics?.attemptEnded(job.type, 'failed', null);
    if (ended.rows[0]) this.opts.events?.publish([{ type: 'job.failed', row: ended.rows[0] }]);
    return 'job_done';
  }

  /** A chunk that raised: tried again with backoff, and past its tries the job's attempt fails. */
  private async failed(task: Task<TaskData>, head: JobHead | undefined, err: unknown, workerId: string): Promise<ChunkOutcome> {
    const message = err instanceof Error ? err.message : String(err);
    // BullMQ counts a deferral (defer above) as a made attempt; it is not a try of the chunk.
    const tries = task.attemptsMade + 1 - ((task.data as DeferrableTaskData).deferrals ?? 0);
    if (!head || tries < this.opts.chunkAttempts) {
      throw new RetryLater(backoffDelay(this.opts.backoff, tries), `chunk ${task.data.chunk!.seq} failed: ${message}`);
    }
    const error: JobError = { message: `chunk ${task.data.chunk!.seq} failed ${tries} times: ${message}`.slice(0, 2000), code: 'chunk_failed', at: new Date().toISOString() };
    this.opts.log.warn({ jobId: head.id, seq: task.data.chunk!.seq, tries, error: message }, 'chunk failed; failing the attempt');
    // The job's attempt fails as any attempt does; its next attempt resumes the open chunks.
    const attemptInRound = head.attempts - head.round_base;
    if (attemptInRound < head.max_attempts) {
      const delayMs = backoffDelay(this.opts.backoff, attemptInRound);
      const retrying = await this.opts.transitions.finish({ id: head.id, attempt: head.attempts, workerId, to: 'retrying', error, retryAt: new Date(Date.now() + delayMs) });
      if (retrying) this.opts.metrics?.attemptEnded(head.type, 'retrying', null);
      // Lost if Redis is down now: the reconciler queues retrying jobs it does not find there.
      if (retrying) await this.opts.queue.add(...spread(taskOptions({ id: head.id, tenantId: head.tenant_id, type: head.type, priority: head.priority, delayMs })));
    } else {
      const failed = await this.opts.transitions.finish({ id: head.id, attempt: head.attempts, workerId, to: 'failed', error });
      if (failed) this.opts.metrics?.attemptEnded(head.type, 'failed', null, true);
    }
    return 'job_not_running';
  }
}

/** Thrown inside the commit to roll it back when the job stopped running meanwhile. */
class JobStopped extends Error {}

/** Thrown inside the commit to roll it back when another run of the chunk committed first. */
class ChunkDone extends Error {}

function chunkedJob(h: JobHead): ChunkedJob {
  return { id: h.id, tenantId: h.tenant_id, type: h.type, priority: h.priority };
}

const spread = (o: ReturnType<typeof taskOptions>) => [o.name, o.data, o.opts] as const;

/** The job's counts per step and outcome, over every entry it has results for. */
export async function summarise(tx: Tx, jobId: string, entries: number, failed: number): Promise<ListJobSummary> {
  const overlap = (await tx.query<{ overlap: boolean }>(CHUNKS_OVERLAP, [jobId])).rows[0]?.overlap ?? true;
  const { rows } = await tx.query<{ step: string; label: string; n: number }>(overlap ? SUMMARY : SUMMARY_FROM_CHUNKS, [jobId]);
  const steps: Record<string, Record<string, number>> = {};
  for (const r of rows) (steps[r.step] ??= {})[r.label] = r.n;
  return { entries, succeeded: entries - failed, failed, steps };
}
