// The Celery broker (Redis): pushes messages onto kombu's queue lists, takes a waiting one
// back, and broadcasts revokes. Fail-fast: a broker that is down refuses at once.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createRedis } from '../queue/redis.js';
import { pidboxChannel, revokeMessage } from './control.js';
import type { CeleryMessage } from './message.js';

export class CeleryBroker {
  private readonly redis: Redis;
  private readonly pidbox: string;

  constructor(brokerUrl: string, log: Logger) {
    this.redis = createRedis(brokerUrl, 'queue', log);
    this.pidbox = pidboxChannel(brokerUrl);
  }

  /** Puts a message on its queue's list, as kombu's Redis transport does (LPUSH; workers BRPOP). */
  async send(message: CeleryMessage): Promise<void> {
    await this.redis.lpush(message.listKey, message.raw);
  }

  /** Takes a message back from its list if no worker has taken it yet; true when it was there. */
  async takeBack(message: CeleryMessage): Promise<boolean> {
    return (await this.redis.lrem(message.listKey, 1, message.raw)) > 0;
  }

  /** Tells every live worker to drop these tasks (also ones it has prefetched); terminate also kills a running one (prefork). */
  async revoke(taskIds: string[], terminate: boolean): Promise<void> {
    if (taskIds.length === 0) return;
    await this.redis.publish(this.pidbox, revokeMessage(taskIds, terminate));
  }

  /** Closes the connection. */
  close(): void {
    this.redis.disconnect();
  }
}
