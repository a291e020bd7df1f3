// The Celery broker (Redis): pushes messages onto kombu's queue lists, takes a waiting one
// back, and broadcasts revokes. Fail-fast: a broker that is down refuses at once.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createRedis } from '../queue/redis.js';
import { Batcher } from '../util/batcher.js';
import { pidboxChannel, revokeMessage } from './control.js';
import type { CeleryMessage } from './message.js';

export class CeleryBroker {
  private readonly redis: Redis;
  private readonly pidbox: string;
  private readonly sends: Batcher<CeleryMessage, Error | null>;

  constructor(brokerUrl: string, log: Logger) {
    this.redis = createRedis(brokerUrl, 'queue', log);
    this.pidbox = pidboxChannel(brokerUrl);
    // Messages sent during one turn of the event loop leave in one write, one LPUSH per list:
    // on a busy host a socket write costs more than the command (bench celery).
    this.sends = new Batcher({ maxBatch: 1000, maxInFlight: 2, run: (messages) => this.push(messages) });
  }

  /** Puts a message on its queue's list, as kombu's Redis transport does (LPUSH; workers BRPOP). */
  async send(message: CeleryMessage): Promise<void> {
    const err = await this.sends.add(message);
    if (err) throw err;
  }

  /** LPUSHes a batch in order (the first sent is the first a worker's BRPOP takes); an error per message whose list refused. */
  private async push(messages: CeleryMessage[]): Promise<(Error | null)[]> {
    const byList = new Map<string, string[]>();
    for (const m of messages) {
      const raws = byList.get(m.listKey);
      if (raws) raws.push(m.raw);
      else byList.set(m.listKey, [m.raw]);
    }
    if (byList.size === 1) {
      const [key, raws] = byList.entries().next().value as [string, string[]];
      await this.redis.lpush(key, ...raws);
      return messages.map(() => null);
    }
    const pipeline = this.redis.pipeline();
    for (const [key, raws] of byList) pipeline.lpush(key, ...raws);
    const results = (await pipeline.exec()) ?? [];
    const failed = new Map([...byList.keys()].map((key, i) => [key, results[i]?.[0] ?? (results[i] ? null : new Error('no reply from the broker'))]));
    return messages.map((m) => failed.get(m.listKey) ?? null);
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
