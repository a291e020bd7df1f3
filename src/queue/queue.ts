// The BullMQ queue every job task goes through, and the options each task carries.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export const QUEUE_NAME = 'jobs';
/**
 * BullMQ's own attempt counter is transport only: PostgreSQL decides whether a failed attempt
 * is retried (the job's round of maxAttempts) and BullMQ just waits out the delay we give it.
 */
export const TRANSPORT_ATTEMPTS = 1_000_000;
export const BACKOFF_TYPE = 'enrichd';

/** What a task in Redis carries: only what the worker needs to find the job in PostgreSQL. */
export interface TaskData {
  tenantId: string;
  type: string;
  /** a chunk task of a list job: the job and the chunk's number (the task's own id is neither) */
  chunk?: { jobId: string; seq: number };
}

export type JobQueue = Queue<TaskData, unknown, string>;

/** Opens the BullMQ queue under the configured prefix. */
export function createQueue(connection: Redis, prefix: string): JobQueue {
  return new Queue<TaskData, unknown, string>(QUEUE_NAME, { connection, prefix, skipVersionCheck: true });
}

/** One task to put on the queue. */
export interface Dispatchable {
  id: string;
  tenantId: string;
  type: string;
  priority: number;
  delayMs: number;
}

/** The BullMQ add arguments for a task: jobId = the job's id, so a double add is ignored. */
export function taskOptions(d: Dispatchable) {
  return {
    name: d.type,
    data: { tenantId: d.tenantId, type: d.type } satisfies TaskData,
    opts: {
      jobId: d.id,
      priority: d.priority,
      delay: Math.max(0, Math.round(d.delayMs)),
      attempts: TRANSPORT_ATTEMPTS,
      backoff: { type: BACKOFF_TYPE },
      removeOnComplete: true,
      removeOnFail: true,
    },
  };
}

/** A chunk task's id: unique per job and chunk, so a chunk queued twice is one task. */
export function chunkTaskId(jobId: string, seq: number): string {
  return `${jobId}-c${seq}`;
}

/** One chunk of a list job to put on the queue. */
export interface ChunkDispatchable {
  jobId: string;
  tenantId: string;
  type: string;
  priority: number;
  seq: number;
}

/** The BullMQ add arguments for a chunk task: it runs at its job's priority, with our backoff. */
export function chunkTaskOptions(c: ChunkDispatchable) {
  return {
    name: 'chunk',
    data: { tenantId: c.tenantId, type: c.type, chunk: { jobId: c.jobId, seq: c.seq } } satisfies TaskData,
    opts: {
      jobId: chunkTaskId(c.jobId, c.seq),
      priority: c.priority,
      attempts: TRANSPORT_ATTEMPTS,
      backoff: { type: BACKOFF_TYPE },
      removeOnComplete: true,
      removeOnFail: true,
    },
  };
}
