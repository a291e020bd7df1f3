// The process endpoint: a cron (Vercel's calls GET with the bearer) runs queued work in this process.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { type ProcessRunner, RunInProgress } from '../../queue/process-runner.js';
import { errorResponse } from '../schemas/job.js';

export interface ProcessRoutesOptions {
  cronSecret: string | undefined;
  runner: ProcessRunner | undefined;
  /** the queue's counts, for the health answer */
  queueCounts: () => Promise<Record<string, number>>;
}

const DEFAULT_MAX_JOBS = 10;
const DEFAULT_TIMEOUT_MS = 25_000;

const processBody = z
  .strictObject({
    maxJobs: z.number().int().min(1).max(1000).optional(),
    timeoutMs: z.number().int().min(100).max(300_000).optional(),
    timeout: z.number().int().min(100).max(300_000).optional().describe('older name of timeoutMs'),
  })
  .refine((b) => b.timeoutMs === undefined || b.timeout === undefined, { message: 'give timeoutMs or timeout, not both', path: ['timeout'] })
  .default({});

const runResponse = z.object({ processed: z.number().int(), remaining: z.number().int() });
const healthResponse = z.object({ status: z.literal('ok'), queue: z.record(z.string(), z.number()) });

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  return typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
}

function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Registers POST and GET /process (and, on the alias, POST /jobs/process): bearer CRON_SECRET, not a JWT. */
export async function processRoutes(app: FastifyInstance, opts: ProcessRoutesOptions & { hidden: boolean; jobsAlias: boolean }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { cronSecret, runner, hidden } = opts;

  /** 404 while CRON_SECRET is unset; 401 for a wrong bearer; null when there is no bearer at all. */
  const authorise = (request: FastifyRequest): boolean => {
    if (!cronSecret || !runner) throw new AppError('not_found', 'The process endpoint is off: CRON_SECRET is not set.');
    const given = bearer(request);
    if (given === undefined) return false;
    if (!sameSecret(given, cronSecret)) throw new AppError('unauthorized', 'The bearer is not the CRON_SECRET.');
    return true;
  };

  const run = async (maxJobs: number, timeoutMs: number) => {
    try {
      return await runner!.run(maxJobs, timeoutMs);
    } catch (err) {
      if (err instanceof RunInProgress) throw new AppError('conflict', 'Another process run is in progress; try again when it ends.');
      throw err;
    }
  };

  const schema = (summary: string) => ({ hide: hidden, tags: ['operations'], summary, security: [{ cronBearer: [] }] });

  const post = async (request: FastifyRequest<{ Body: z.infer<typeof processBody> }>) => {
    if (!authorise(request)) throw new AppError('unauthorized', 'Authorization: Bearer <CRON_SECRET> is required.');
    const b = request.body;
    return run(b.maxJobs ?? DEFAULT_MAX_JOBS, b.timeoutMs ?? b.timeout ?? DEFAULT_TIMEOUT_MS);
  };
  r.post('/process', {
    schema: { ...schema('Run queued work in this process (cron)'), body: processBody, response: { 200: runResponse, 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse } },
  }, post);
  if (opts.jobsAlias) {
    r.post('/jobs/process', { schema: { ...schema('Run queued work in this process (cron)'), hide: true, body: processBody } }, post);
  }

  r.get('/process', {
    schema: {
      ...schema('With the bearer: run queued work (Vercel cron); without: health of the processing path'),
      response: { 200: z.union([runResponse, healthResponse]), 401: errorResponse, 404: errorResponse, 409: errorResponse },
    },
  }, async (request) => {
    if (authorise(request)) return run(DEFAULT_MAX_JOBS, DEFAULT_TIMEOUT_MS);
    return { status: 'ok' as const, queue: await opts.queueCounts() };
  });
}
