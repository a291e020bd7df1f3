// Live job events: one Redis stream per tenant, written where transitions commit and read by
// any API instance. Stream ids are the events' ids: monotonic per tenant, and a reader resumes
// after any of them (Last-Event-ID) on any instance while the stream still holds it.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type Job, type JobRow, toJob } from '../jobs/job.js';

/** The event types of CONTRACT.md. */
export type JobEventType = 'job.created' | 'job.started' | 'job.progress' | 'job.completed' | 'job.failed' | 'job.cancelled' | 'job.retrying';

/** One event as a stream reader gets it. */
export interface JobEvent {
  id: string;
  type: JobEventType;
  job: Job;
}

/** Most ms an event other than job.created waits for company before it is written. */
const LINGER_MS = 5;
/** Waiting events that are written at once. */
const LINGER_MAX_EVENTS = 200;

/** How long a stream keeps events for readers that resume (the contract asks for 10 min). */
export const EVENT_RETENTION_MS = 15 * 60_000;

/** The stream of one tenant's events. */
export function eventStreamKey(prefix: string, tenantId: string): string {
  return `${prefix}:events:${tenantId}`;
}

/**
 * Appends events to their tenants' streams, best effort: a live view is not a record (the job
 * and its history are in PostgreSQL), so Redis being down loses events, never jobs.
 *
 * Events published close together leave together, in one pipeline: a worker publishes one or
 * two events per job from each task, and a pipeline per event cost a quarter of a busy
 * worker's CPU (measured with --cpu-prof on bench dispatch (c)).
 */
export class EventPublisher {
  private waiting: { type: JobEventType; row: JobRow }[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /**
   * Publishes one event per row, never throws: `job.created` on the next turn of the event
   * loop (it must be in the stream before a worker's `job.started` of the same job), the
   * others within LINGER_MS, so a short job's start and end (and its neighbours') share one
   * write: a write is most of what an event costs on a busy machine.
   */
  publish(events: { type: JobEventType; row: JobRow }[]): void {
    if (events.length === 0) return;
    for (const e of events) this.waiting.push(e);
    const now = events.some((e) => e.type === 'job.created') || this.waiting.length >= LINGER_MAX_EVENTS;
    if (now && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.scheduled = false;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    if (now) setImmediate(() => this.flush());
    else this.timer = setTimeout(() => this.flush(), LINGER_MS);
  }

  private flush(): void {
    this.scheduled = false;
    this.timer = undefined;
    const events = this.waiting;
    this.waiting = [];
    if (events.length === 0) return;
    const minId = String(Date.now() - EVENT_RETENTION_MS);
    const pipeline = this.redis.pipeline();
    for (const e of events) {
      pipeline.xadd(eventStreamKey(this.prefix, e.row.tenant_id), 'MINID', '~', minId, '*', 'type', e.type, 'job', JSON.stringify(toJob(e.row)));
    }
    pipeline.exec().catch((err: Error) => this.log.debug({ err: { message: err.message } }, 'events not published'));
  }
}

type StreamEntries = [id: string, fields: string[]][];

function toEvents(entries: StreamEntries): JobEvent[] {
  const out: JobEvent[] = [];
  for (const [id, fields] of entries) {
    const type = fields[fields.indexOf('type') + 1] as JobEventType | undefined;
    const job = fields[fields.indexOf('job') + 1];
    if (type && job) out.push({ id, type, job: JSON.parse(job) as Job });
  }
  return out;
}

/** Events after `afterId` ('0' for the whole stream), oldest first. */
export async function readEventsAfter(redis: Redis, key: string, afterId: string, count = 1000): Promise<JobEvent[]> {
  const entries = (await redis.xrange(key, `(${afterId}`, '+', 'COUNT', count)) as StreamEntries;
  return toEvents(entries);
}

/** Waits up to blockMs for events after `afterId` ('$' for only new ones); [] on timeout. */
export async function waitForEvents(redis: Redis, key: string, afterId: string, blockMs: number): Promise<JobEvent[]> {
  const res = (await redis.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', key, afterId)) as [string, StreamEntries][] | null;
  return res ? toEvents(res[0]![1]) : [];
}

/** The id of the newest event of a stream, or '0-0' when it is empty. */
export async function lastEventId(redis: Redis, key: string): Promise<string> {
  const entries = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as StreamEntries;
  return entries[0]?.[0] ?? '0-0';
}
