// Live events (text/event-stream): a tenant's job events from its Redis stream, resumable with
// Last-Event-ID on any API instance; a comment line every 15 s keeps proxies from closing it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { AppError } from '../../errors.js';
import { type JobEvent, eventStreamKey, lastEventId, readEventsAfter, waitForEvents } from '../../events/stream.js';
import { createRedis } from '../../queue/redis.js';
import { errorResponse, jobIdParams } from '../schemas/job.js';

export interface EventRoutesOptions {
  pool: Pool;
  appRole: string;
  redisUrl: string;
  prefix: string;
  /** between comment lines while nothing happens */
  keepAliveMs?: number;
  log: Logger;
  hidden: boolean;
}

const KEEP_ALIVE_MS = 15_000;
const EVENT_ID = /^\d{1,20}-\d{1,20}$/;

function frame(e: JobEvent): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ type: e.type, job: e.job })}\n\n`;
}

/** Streams the tenant's events (only one job's when jobId is set) until the client leaves. */
async function stream(request: FastifyRequest, reply: FastifyReply, opts: EventRoutesOptions, jobId?: string): Promise<void> {
  const key = eventStreamKey(opts.prefix, request.auth.tenantId);
  const given = request.headers['last-event-id'];
  const resumeFrom = typeof given === 'string' && EVENT_ID.test(given.trim()) ? given.trim() : undefined;
  // A blocking read ties up its connection: each stream has its own.
  const redis = createRedis(opts.redisUrl, 'worker');
  let closed = false;
  reply.hijack();
  const res = reply.raw;
  res.on('close', () => {
    closed = true;
    redis.disconnect();
  });
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-request-id': request.id });
  res.write(': connected\n\n');
  const send = (events: JobEvent[]) => {
    for (const e of events) if (!jobId || e.job.id === jobId) res.write(frame(e));
  };
  try {
    let last = resumeFrom ?? (await lastEventId(redis, key));
    if (resumeFrom) {
      // What was missed, then live: the backlog may be longer than one read.
      for (;;) {
        const missed = await readEventsAfter(redis, key, last);
        if (missed.length === 0) break;
        send(missed);
        last = missed[missed.length - 1]!.id;
      }
    }
    while (!closed) {
      const events = await waitForEvents(redis, key, last, opts.keepAliveMs ?? KEEP_ALIVE_MS);
      if (closed) break;
      if (events.length === 0) {
        res.write(': keep-alive\n\n');
        continue;
      }
      send(events);
      last = events[events.length - 1]!.id;
    }
  } catch (err) {
    if (!closed) opts.log.warn({ err: { message: (err as Error).message }, requestId: request.id }, 'event stream ended by an error');
  } finally {
    redis.disconnect();
    if (!res.writableEnded) res.end();
  }
}

/** Registers GET /jobs/:id/events (under /v1/enrichment). */
export async function jobEventRoutes(app: FastifyInstance, opts: EventRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/jobs/:id/events', {
    schema: {
      hide: opts.hidden,
      tags: ['events'],
      summary: 'Live events of one job (text/event-stream; Last-Event-ID resumes)',
      security: [{ bearerAuth: [] }],
      params: jobIdParams,
      response: { 400: errorResponse, 401: errorResponse, 404: errorResponse },
    },
  }, async (request, reply) => {
    const found = await withTenant(opts.pool, opts.appRole, request.auth.tenantId, (tx) => tx.query('SELECT 1 FROM enrichment_jobs WHERE id = $1::uuid', [request.params.id]));
    if (found.rowCount === 0) throw new AppError('not_found', 'No such job.');
    await stream(request, reply, opts, request.params.id);
  });
}

/** Registers GET /events (under /v1): every job event of the tenant. */
export async function tenantEventRoutes(app: FastifyInstance, opts: EventRoutesOptions): Promise<void> {
  app.get('/events', {
    schema: { tags: ['events'], summary: 'Live events of all the tenant\'s jobs (text/event-stream; Last-Event-ID resumes)', security: [{ bearerAuth: [] }] },
  }, async (request, reply) => stream(request, reply, opts));
}
