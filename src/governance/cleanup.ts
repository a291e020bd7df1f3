// tenant_cleanup: removes every row a tenant owns, its Redis keys and its queued tasks, in
// batches of short transactions. Only the cleanup job itself, its history and the audit trail
// stay. Every step is idempotent and counted where it deletes, so a run that crashed is simply
// run again (the job's next attempt) and reports the totals of all runs together.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import { withTenant } from '../db/transaction.js';
import { cancelJob, queuedTaskIds } from '../jobs/actions.js';
import { eventStreamKey } from '../events/stream.js';
import { type JobQueue, QUEUE_NAME } from '../queue/queue.js';
import * as sql from './cleanup-sql.js';

export interface TenantCleanupRequest {
  pool: Pool;
  appRole: string;
  queue: JobQueue;
  redis: Redis;
  prefix: string;
  tenantId: string;
  /** the cleanup job's id: it, its events and its progress rows are kept */
  jobId: string;
  /** rows per DELETE (default 10,000) */
  batchSize?: number;
  signal?: AbortSignal;
  log?: Logger;
  /** called after each batch (tests stop here to play a crash) */
  onBatch?: (table: string, rows: number) => Promise<void> | void;
}

/** What a cleanup removed: rows per table (all runs together), and what it did outside PostgreSQL. */
export interface TenantCleanupResult {
  tables: Record<string, number>;
  /** unfinished jobs cancelled (through the normal transition) before their rows went */
  cancelledJobs: number;
  /** tasks removed from the BullMQ queue in this run */
  queuedTasksRemoved: number;
  /** Redis keys of the tenant deleted in this run */
  redisKeysDeleted: number;
  /** entries of the queue's event stream about the tenant's tasks, deleted in this run */
  queueEventsDeleted: number;
}

export const CLEANUP_BATCH = 10_000;
const CANCEL_PAGE = 200;

/** Runs (or resumes) a tenant's cleanup to the end. */
export async function runTenantCleanup(req: TenantCleanupRequest): Promise<TenantCleanupResult> {
  const batch = req.batchSize ?? CLEANUP_BATCH;
  const cancelled = await cancelUnfinished(req);
  const tasks = await removeTasks(req.queue, cancelled.tasks, req.log);
  const keys = await deleteTenantKeys(req.redis, req.prefix, req.tenantId);
  const scrubbedFirst = await scrubQueueEvents(req);

  const params = (extra: unknown[] = []) => [req.tenantId, req.jobId, batch, ...extra];
  const { rows: lists } = await req.pool.query<{ id: string }>(sql.TENANT_LISTS, [req.tenantId]);
  for (const list of lists) {
    let after = '0';
    for (;;) {
      req.signal?.throwIfAborted();
      const { rows } = await req.pool.query<{ n: number; last: string | null }>(sql.LIST_ENTRIES_BATCH, params([list.id, after]));
      const n = rows[0]?.n ?? 0;
      await req.onBatch?.('list_entries', n);
      if (n < batch || rows[0]?.last == null) break;
      after = rows[0].last;
    }
  }

  const steps = [...sql.CLEANUP_STEPS];
  const named = new Set(steps.map((s) => s.table).concat('list_entries'));
  const { rows: tenantTables } = await req.pool.query<{ name: string }>(sql.TENANT_TABLES);
  for (const t of tenantTables) {
    if (!named.has(t.name) && !sql.KEPT_TABLES.has(t.name)) {
      req.log?.warn({ table: t.name }, 'tenant cleanup: a tenant table without its own step, emptied by the generic one');
      steps.push(sql.genericStep(t.name));
    }
  }
  let scrubbed = 0;
  for (const step of steps) {
    // The queue's own event stream names tasks by job id: scrubbed while the jobs still say whose they are.
    if (step.table === 'enrichment_jobs') scrubbed += await scrubQueueEvents(req);
    for (;;) {
      req.signal?.throwIfAborted();
      const { rows } = await req.pool.query<{ n: number }>(step.sql, params());
      const n = rows[0]?.n ?? 0;
      await req.onBatch?.(step.table, n);
      if (n < batch) break;
    }
  }

  const { rows: progress } = await req.pool.query<{ table_name: string; rows: string }>(sql.PROGRESS, [req.jobId]);
  const tables: Record<string, number> = {};
  for (const p of progress) tables[p.table_name] = Number(p.rows);
  return { tables, cancelledJobs: cancelled.count, queuedTasksRemoved: tasks, redisKeysDeleted: keys, queueEventsDeleted: scrubbedFirst + scrubbed };
}

/**
 * Cancels the tenant's unfinished jobs through the normal transition (with its event), so a
 * running attempt's outcome is discarded and a running list job stops at its next chunk.
 * Returns the tasks those jobs may still have in Redis.
 */
async function cancelUnfinished(req: TenantCleanupRequest): Promise<{ count: number; tasks: string[] }> {
  let count = 0;
  const tasks: string[] = [];
  for (;;) {
    req.signal?.throwIfAborted();
    const page = await withTenant(req.pool, req.appRole, req.tenantId, async (tx) => {
      const { rows } = await tx.query<{ id: string }>(sql.UNFINISHED_JOBS, [req.tenantId, req.jobId, CANCEL_PAGE]);
      for (const r of rows) await cancelJob(tx, r.id);
      const ids = rows.map((r) => r.id);
      return { ids, tasks: await queuedTaskIds(tx, ids) };
    });
    count += page.ids.length;
    tasks.push(...page.tasks);
    if (page.ids.length < CANCEL_PAGE) return { count, tasks };
  }
}

/** Removes the cancelled jobs' tasks from the queue; one held by a worker ends with its attempt. */
async function removeTasks(queue: JobQueue, ids: string[], log: Logger | undefined): Promise<number> {
  let removed = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const outcomes = await Promise.allSettled(ids.slice(i, i + 500).map((id) => queue.remove(id)));
    for (const o of outcomes) {
      if (o.status === 'fulfilled' && o.value === 1) removed++;
      else if (o.status === 'rejected') log?.debug({ err: { message: String(o.reason) } }, 'tenant cleanup: task not removed');
    }
  }
  return removed;
}

/** Deletes the tenant's keys under the prefix: its event stream and any key naming the tenant. */
async function deleteTenantKeys(redis: Redis, prefix: string, tenantId: string): Promise<number> {
  let deleted = await redis.del(eventStreamKey(prefix, tenantId));
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}:*${tenantId}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/**
 * Deletes the entries of BullMQ's event stream (`<prefix>:jobs:events`, capped by BullMQ) that
 * name a task of the tenant's jobs (a job's own id, or `<id>-c<seq>` for a chunk).
 */
async function scrubQueueEvents(req: TenantCleanupRequest): Promise<number> {
  const key = `${req.prefix}:${QUEUE_NAME}:events`;
  const entries = (await req.redis.xrange(key, '-', '+')) as [string, string[]][];
  const byJob = new Map<string, string[]>();
  for (const [id, fields] of entries) {
    const at = fields.indexOf('jobId');
    const task = at >= 0 ? fields[at + 1] : undefined;
    const job = task?.slice(0, 36).toLowerCase();
    if (!job || !UUID.test(job)) continue;
    byJob.set(job, [...(byJob.get(job) ?? []), id]);
  }
  if (byJob.size === 0) return 0;
  const { rows } = await req.pool.query<{ id: string }>(sql.JOBS_OF_TENANT, [[...byJob.keys()], req.tenantId]);
  const doomed = rows.flatMap((r) => byJob.get(r.id) ?? []);
  let deleted = 0;
  for (let i = 0; i < doomed.length; i += 1000) deleted += await req.redis.xdel(key, ...doomed.slice(i, i + 1000));
  return deleted;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A prefix as a literal in a SCAN pattern. */
function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
