// Liveness (/health) and readiness (/ready: PostgreSQL and Redis answer).
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Pool } from '../../db/pool.js';

const PROBE_TIMEOUT_MS = 1000;

async function probe(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once the connection is ready, or after the probe's timeout. The probe connection
 * fails fast (no offline queue): without this wait, /ready says Redis is down while a fresh
 * or reconnecting connection is still being set up.
 */
function redisConnected(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, PROBE_TIMEOUT_MS);
    redis.once('ready', done);
  });
}

export interface HealthRoutesOptions {
  pool: Pool;
  redis: Redis;
  /** false once shutdown began: /ready turns 503 so balancers stop sending work */
  accepting: () => boolean;
}

/** Registers /health and /ready. */
export async function healthRoutes(app: FastifyInstance, opts: HealthRoutesOptions): Promise<void> {
  app.get('/health', { schema: { tags: ['operations'], summary: 'Liveness: 200 while the process is alive' } }, async () => ({ status: 'ok' }));

  app.get('/ready', { schema: { tags: ['operations'], summary: 'Readiness: 200 when PostgreSQL and Redis answer, 503 naming which does not' } }, async (_request, reply) => {
    const redisAnswers = async () => {
      await redisConnected(opts.redis);
      return opts.redis.ping();
    };
    const [postgres, redis] = await Promise.all([probe(() => opts.pool.query('SELECT 1')), probe(redisAnswers)]);
    const checks = { postgres: postgres ? 'up' : 'down', redis: redis ? 'up' : 'down' };
    const down = Object.entries(checks).filter(([, v]) => v === 'down').map(([k]) => k);
    if (!opts.accepting()) down.push('shutting_down');
    if (down.length === 0) return { status: 'ready', checks };
    const names: Record<string, string> = { postgres: 'PostgreSQL', redis: 'Redis', shutting_down: 'the process (shutting down)' };
    return reply.status(503).send({
      error: {
        code: 'unavailable',
        message: `Not ready: ${down.map((d) => names[d]).join(' and ')} ${down.length > 1 ? 'are' : 'is'} not answering.`,
        details: down.map((d) => ({ path: d, message: d === 'shutting_down' ? 'shutting down' : 'not answering' })),
      },
      checks,
    });
  });
}
