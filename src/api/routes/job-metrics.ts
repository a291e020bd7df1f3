// GET /jobs/metrics: a tenant's job figures from PostgreSQL, and the workers alive system-wide.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { type Tx, withTenant } from '../../db/transaction.js';
import { JOB_STATUSES, type JobStatus } from '../../jobs/status.js';
import { errorResponse } from '../schemas/job.js';

export interface JobMetricsRoutesOptions {
  pool: Pool;
  appRole: string;
  /** a worker silent for 3 heartbeat intervals is dead, and not listed */
  healthCheckIntervalMs: number;
  hidden: boolean;
}

const windowMessage = 'must be an integer number of minutes from 1 to 1440';
const metricsQuery = z.object({
  window: z.coerce.number({ message: windowMessage }).int({ message: windowMessage }).min(1, { message: windowMessage }).max(1440, { message: windowMessage }).default(60),
});

const nullableRate = z.number().nullable();
const metricsResponse = z
  .object({
    window: z.number().int(),
    counts: z.record(z.string(), z.number().int()),
    queueDepth: z.object({ waiting: z.number().int(), active: z.number().int(), delayed: z.number().int() }),
    oldestWaitingSeconds: z
      .number()
      .nullable()
      .describe('age of the tenant\'s oldest job that is due and not started (pending, or retrying past its retry time); null when none waits'),
    throughput: z.object({ last5m: z.number(), last60m: z.number() }),
    series: z.array(z.object({ at: z.string(), completed: z.number().int(), failed: z.number().int() })),
    successRate: nullableRate,
    errorRate: nullableRate,
    durations: z.record(z.string(), z.object({ p50: z.number(), p95: z.number() })),
    workers: z.array(
      z.object({
        id: z.string(),
        host: z.string(),
        pid: z.number().int(),
        startedAt: z.string(),
        lastHeartbeatAt: z.string(),
        inFlight: z.number().int(),
        processed: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'JobMetrics' });

type JobMetrics = z.infer<typeof metricsResponse>;

// Counts by status from 0003's (tenant_id, status, ...) index alone (an index-only scan).
const COUNTS = `
SELECT status, count(*)::int AS n FROM enrichment_jobs WHERE tenant_id = $1::uuid GROUP BY status`;
// A retrying job whose time has passed waits for a worker like a pending one. Apart from the
// counts, so only the tenant's retrying rows visit the table for retry_at.
const RETRYING_DUE = `
SELECT count(*)::int AS n FROM enrichment_jobs
WHERE tenant_id = $1::uuid AND status = 'retrying' AND COALESCE(retry_at, now()) <= now()`;

// The tenant's oldest due job, by the same due moment as the system-wide gauge
// (src/observability/metric-sources.ts); null when nothing waits.
const OLDEST_WAITING = `
SELECT extract(epoch FROM now() - min(COALESCE(retry_at, GREATEST(created_at, run_at))))::float8 AS seconds
FROM enrichment_jobs
WHERE tenant_id = $1::uuid AND status IN ('pending', 'retrying') AND COALESCE(retry_at, GREATEST(created_at, run_at)) <= now()`;

// One row per minute of the window, the current (partial) minute last; the finished rows come
// from enrichment_jobs_finished_idx (0004) alone.
const SERIES = `
WITH minutes AS (
  SELECT generate_series(date_trunc('minute', now()) - ($2::int - 1) * interval '1 minute', date_trunc('minute', now()), interval '1 minute') AS at
), ended AS (
  SELECT date_trunc('minute', completed_at) AS at, status
  FROM enrichment_jobs
  WHERE tenant_id = $1::uuid AND completed_at IS NOT NULL
    AND completed_at >= date_trunc('minute', now()) - ($2::int - 1) * interval '1 minute'
    AND status IN ('completed', 'failed')
)
SELECT m.at, count(e.status) FILTER (WHERE e.status = 'completed')::int AS completed,
       count(e.status) FILTER (WHERE e.status = 'failed')::int AS failed
FROM minutes m LEFT JOIN ended e ON e.at = m.at
GROUP BY m.at ORDER BY m.at`;

// Jobs that ended completed or failed (work done; cancellations are not throughput).
const THROUGHPUT = `
SELECT count(*) FILTER (WHERE completed_at >= now() - interval '5 minutes')::int AS last5,
       count(*)::int AS last60
FROM enrichment_jobs
WHERE tenant_id = $1::uuid AND completed_at IS NOT NULL AND completed_at >= now() - interval '60 minutes'
  AND status IN ('completed', 'failed')`;

// durationMs as a job reports it (completedAt - startedAt), for jobs completed in the window.
const DURATIONS = `
SELECT type,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::float8 AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::float8 AS p95
FROM (
  SELECT type, extract(epoch FROM completed_at - started_at) * 1000 AS ms
  FROM enrichment_jobs
  WHERE tenant_id = $1::uuid AND completed_at IS NOT NULL
    AND completed_at >= date_trunc('minute', now()) - ($2::int - 1) * interval '1 minute'
    AND status = 'completed' AND started_at IS NOT NULL
) d
GROUP BY type ORDER BY type`;

// System-wide (the table has no tenant; the application role may read it).
const WORKERS = `
SELECT id, host, pid, started_at, last_heartbeat_at, in_flight, processed
FROM enrichment_workers
WHERE stopped_at IS NULL AND last_heartbeat_at >= now() - $1::int * interval '1 millisecond'
ORDER BY started_at, id`;

interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  started_at: Date;
  last_heartbeat_at: Date;
  in_flight: number;
  processed: number;
}

/** Reads the tenant's metrics in one transaction (its statements sent in one flight). */
export async function readJobMetrics(tx: Tx, tenantId: string, window: number, healthCheckIntervalMs: number): Promise<JobMetrics> {
  const [counted, due, oldest, series, throughput, durations, workers] = await Promise.all([
    tx.query<{ status: JobStatus; n: number }>(COUNTS, [tenantId]),
    tx.query<{ n: number }>(RETRYING_DUE, [tenantId]),
    tx.query<{ seconds: number | null }>(OLDEST_WAITING, [tenantId]),
    tx.query<{ at: Date; completed: number; failed: number }>(SERIES, [tenantId, window]),
    tx.query<{ last5: number; last60: number }>(THROUGHPUT, [tenantId]),
    tx.query<{ type: string; p50: number; p95: number }>(DURATIONS, [tenantId, window]),
    tx.query<WorkerRow>(WORKERS, [3 * healthCheckIntervalMs]),
  ]);
  const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  for (const r of counted.rows) counts[r.status] = r.n;
  const retryingDue = due.rows[0]?.n ?? 0;
  const oldestSeconds = oldest.rows[0]?.seconds ?? null;
  const completed = series.rows.reduce((n, r) => n + r.completed, 0);
  const failed = series.rows.reduce((n, r) => n + r.failed, 0);
  const ended = completed + failed;
  const t = throughput.rows[0] ?? { last5: 0, last60: 0 };
  return {
    window,
    counts,
    queueDepth: {
      waiting: counts.pending + retryingDue,
      active: counts.running,
      delayed: counts.scheduled + counts.retrying - retryingDue,
    },
    oldestWaitingSeconds: oldestSeconds === null ? null : Math.max(0, oldestSeconds),
    throughput: { last5m: t.last5 / 5, last60m: t.last60 / 60 },
    series: series.rows.map((r) => ({ at: r.at.toISOString(), completed: r.completed, failed: r.failed })),
    successRate: ended === 0 ? null : completed / ended,
    errorRate: ended === 0 ? null : failed / ended,
    durations: Object.fromEntries(durations.rows.map((r) => [r.type, { p50: r.p50, p95: r.p95 }])),
    workers: workers.rows.map((w) => ({
      id: w.id,
      host: w.host,
      pid: w.pid,
      startedAt: w.started_at.toISOString(),
      lastHeartbeatAt: w.last_heartbeat_at.toISOString(),
      inFlight: w.in_flight,
      processed: Number(w.processed),
    })),
  };
}

/** Registers GET /jobs/metrics (a static path, so it wins over GET /jobs/:id). */
export async function jobMetricsRoutes(app: FastifyInstance, opts: JobMetricsRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/jobs/metrics', {
    schema: {
      hide: opts.hidden,
      tags: ['jobs'],
      summary: "The tenant's job metrics over a window of minutes",
      description:
        'Counts by status, queue depth, the age of the oldest job waiting for a worker, throughput (jobs ended completed or failed per minute), a per-minute series over the window, ' +
        'success and error rates over the window (null when nothing ended), p50/p95 durations (ms) of jobs completed in the window by type, ' +
        'and the workers alive system-wide.',
      security: [{ bearerAuth: [] }],
      querystring: metricsQuery,
      response: { 200: metricsResponse, 400: errorResponse, 401: errorResponse },
    },
  }, async (request) => {
    const { window } = request.query;
    const tenantId = request.auth.tenantId;
    return withTenant(opts.pool, opts.appRole, tenantId, (tx) => readJobMetrics(tx, tenantId, window, opts.healthCheckIntervalMs));
  });
}
