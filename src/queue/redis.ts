// ioredis connections for BullMQ, with connection-lost/restored logging.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type RedisRole = 'queue' | 'worker' | 'leader' | 'probe';

/**
 * Opens a Redis connection. `queue` and `probe` connections fail fast while Redis is down
 * (no offline queue), so a submit never waits on Redis; `worker` connections block and retry forever.
 */
export function createRedis(url: string, role: RedisRole, log?: Logger): Redis {
  const failFast = role === 'queue' || role === 'probe';
  const redis = new Redis(url, {
    maxRetriesPerRequest: failFast ? 1 : null,
    enableOfflineQueue: !failFast,
    connectTimeout: 2000,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    connectionName: `enrichd-${role}`,
  });
  if (log) watchRedis(redis, role, log);
  return redis;
}

/** Logs once when a connection is lost and once when it is restored. */
function watchRedis(redis: Redis, role: RedisRole, log: Logger): void {
  let lost = false;
  let everReady = false;
  redis.on('ready', () => {
    if (lost) log.info({ redis: role }, 'redis connection restored');
    lost = false;
    everReady = true;
  });
  const onDown = (err?: Error) => {
    if (lost) return;
    lost = true;
    log.warn({ redis: role, reason: err?.message ?? 'closed', wasReady: everReady }, 'redis connection lost');
  };
  redis.on('error', onDown);
  redis.on('close', () => onDown());
}

/** Whether a connection can take commands right now. */
export function redisReady(redis: Redis): boolean {
  return redis.status === 'ready';
}
