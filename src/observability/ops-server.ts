// The small HTTP server of a process without the API (enrichd worker): /health, /ready, /metrics.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { healthRoutes } from '../api/routes/health.js';
import { type RenderMetrics, metricsRoutes } from '../api/routes/metrics.js';
import type { Pool } from '../db/pool.js';

export interface OpsServerOptions {
  pool: Pool;
  redis: Redis;
  accepting: () => boolean;
  render: RenderMetrics;
}

/** Builds (never listens) the health and metrics server; the caller listens and closes it. */
export async function buildOpsServer(opts: OpsServerOptions): Promise<FastifyInstance> {
  // No request logs: a scraper every few seconds would drown the worker's own lines.
  const app = Fastify({ logger: false });
  await app.register(healthRoutes, { pool: opts.pool, redis: opts.redis, accepting: opts.accepting });
  await app.register(metricsRoutes, { render: opts.render });
  return app;
}

/** Builds the server and listens on host:port; logs where. */
export async function startOpsServer(opts: OpsServerOptions & { host: string; port: number; log: Logger }): Promise<FastifyInstance> {
  const app = await buildOpsServer(opts);
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  opts.log.info({ url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}` }, 'health and metrics listening');
  return app;
}
