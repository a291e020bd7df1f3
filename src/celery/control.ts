// Celery's remote control over the Redis transport: a revoke is a message published on the
// `celery.pidbox` fanout exchange, which kombu maps to the pub/sub channel `/<db>.celery.pidbox`
// (kombu/pidbox.py _broadcast, kombu/transport/redis.py _put_fanout); every live worker hears it.
import { randomUUID } from 'node:crypto';

/** The pub/sub channel of Celery's broadcast commands for a broker URL (its database index). */
export function pidboxChannel(brokerUrl: string): string {
  const db = Number(new URL(brokerUrl).pathname.replace(/^\//, '') || '0');
  return `/${Number.isInteger(db) ? db : 0}.celery.pidbox`;
}

/** How long the broadcast stays valid: a worker that reads it later ignores it. */
const BROADCAST_TTL_S = 10;

/**
 * The revoke broadcast for task ids, as `app.control.revoke(ids, terminate=...)` sends it: a
 * worker drops the tasks when it reaches them (also ones it has prefetched) and records REVOKED.
 */
export function revokeMessage(taskIds: string[], terminate: boolean, now = Date.now()): string {
  const body = { method: 'revoke', arguments: { task_id: taskIds.length === 1 ? taskIds[0] : taskIds, terminate, signal: 'SIGTERM' }, destination: null, pattern: null, matcher: null };
  return JSON.stringify({
    body: Buffer.from(JSON.stringify(body), 'utf8').toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers: { clock: 1, expires: now / 1000 + BROADCAST_TTL_S },
    properties: {
      delivery_mode: 2,
      delivery_info: { exchange: 'celery.pidbox', routing_key: '' },
      priority: 0,
      body_encoding: 'base64',
      delivery_tag: randomUUID(),
    },
  });
}
