// ioredis connections for BullMQ, with connection-lost/restored logging.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type RedisRole = 'queue' | 'worker' | 'leader' | 'probe' | 'events';

/**
 * Opens a Redis connection. `queue` and `probe` connections fail fast while Redis is down
 * (no offline queue), so a submit never waits on Redis; `worker` connections block and retry forever.
 */
export function createRedis(url: string, role: RedisRole, log?: Logger): Redis {
  const failFast = role === 'queue' || role === 'probe';
  const redis = new Redis(url, {
    // events: best effort, but not lost while the connection is still opening; a command
    // queued while Redis is away fails after one reconnection attempt.
    maxRetriesPerRequest: failFast || role === 'events' ? 1 : null,
    enableOfflineQueue: !failFast,
    connectTimeout: 2000,
    // After disconnect(), ioredis waits this long for a socket that may already be gone
    // (Redis down) before destroying it, and the timer keeps a stopped process alive.
    disconnectTimeout: 200,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    connectionName: `enrichd-${role}`,
  });
  if (log) watchRedis(redis, role, log);
  return redis;
}

/**
 * Logs once when a connection is lost and once when it is restored. 'reconnecting' (not
 * 'close') marks a loss: a connection we close ourselves at shutdown closes without it.
 */
function watchRedis(redis: Redis, role: RedisRole, log: Logger): void {
  let lost = false;
  let everReady = false;
  let lastError: string | undefined;
  redis.on('ready', () => {
    if (lost) log.info({ redis: role }, 'redis connection restored');
    lost = false;
    everReady = true;
  });
  const onDown = () => {
    if (lost) return;
    lost = true;
    log.warn({ redis: role, reason: lastError ?? 'connection closed', wasReady: everReady }, 'redis connection lost');
  };
  redis.on('error', (err: Error) => {
    lastError = err.message;
    onDown();
  });
  redis.on('reconnecting', () => onDown());
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const CONNECTION_MESSAGES = /connection is closed|stream isn't writeable|max retries per request|connect ETIMEDOUT|socket closed unexpectedly/i;

/** Whether an error only says Redis is unreachable (which the connection watcher already logs). */
export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (err instanceof AggregateError) return err.errors.some(isRedisConnectionError);
  return CONNECTION_MESSAGES.test(err.message);
}

/** Whether a connection can take commands right now. */
export function redisReady(redis: Redis): boolean {
  return redis.status === 'ready';
}
