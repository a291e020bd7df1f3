// The delivery loop's session: its advisory lock (one sending process at a time) and, on the
// same connection, LISTEN for the deliveries the database creates (0010_webhook_wakeup.sql).
import type { Notification } from 'pg';
import type { Pool, PoolClient } from '../../db/pool.js';

// Its own lock, not the leader's: a slow round of sends never delays the relay or the
// reconciler, and either may move to another process independently.
const DELIVERY_LOCK_KEY = 7_414_220_006;

/** The channel the webhook functions notify when they create deliveries. */
export const DELIVERY_CHANNEL = 'enrichd_webhook_deliveries';

export interface DeliveryLockEvents {
  /** deliveries were committed (called once per notification: the caller folds them) */
  notified: () => void;
  /** the session's connection dropped: the lock is gone, and the wake-ups with it */
  lost: () => void;
}

/**
 * Holds the lock and listens on one pooled connection kept for the purpose. Only the holder
 * listens, since only it sends; and the lock and the wake-ups live and die together, so the
 * holder never misses wake-ups unawares: a dropped session is reported, and whoever takes
 * the lock next listens before its first claim (anything committed earlier is claimed by it).
 */
export class DeliveryLock {
  private client: PoolClient | undefined;
  private detach: (() => void) | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly on: DeliveryLockEvents,
  ) {}

  /** Whether this process holds the lock: checks a held session still answers, else tries to take it. */
  async hold(): Promise<boolean> {
    const held = this.client;
    if (held) {
      try {
        await held.query('SELECT 1');
        return true;
      } catch {
        this.drop(held);
      }
    }
    const client = await this.pool.connect();
    const onNotification = (n: Notification) => {
      if (n.channel === DELIVERY_CHANNEL) this.on.notified();
    };
    const onLost = () => {
      if (this.client !== client) return;
      this.drop(client);
      this.on.lost();
    };
    const detach = () => {
      client.removeListener('notification', onNotification);
      client.removeListener('error', onLost);
      client.removeListener('end', onLost);
    };
    client.on('notification', onNotification);
    client.on('error', onLost);
    client.on('end', onLost);
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [DELIVERY_LOCK_KEY]);
      if (!rows[0]?.ok) {
        detach();
        client.release();
        return false;
      }
      await client.query(`LISTEN ${DELIVERY_CHANNEL}`);
      this.client = client;
      this.detach = detach;
      return true;
    } catch (err) {
      detach();
      // a connection that failed here may hold the lock: closing it is what releases it
      client.release(err as Error);
      throw err;
    }
  }

  /** Stops listening, unlocks and hands the connection back to the pool (closed if it fails). */
  async release(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.detach?.();
    this.detach = undefined;
    try {
      await client.query(`UNLISTEN ${DELIVERY_CHANNEL}`);
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [DELIVERY_LOCK_KEY]);
      client.release();
    } catch (err) {
      client.release(err as Error);
    }
  }

  /** Forgets a dead session and closes its connection (which ends the lock server-side too). */
  private drop(client: PoolClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.detach?.();
    this.detach = undefined;
    // a dead connection may still report its end: nothing is listening for it now
    client.on('error', () => undefined);
    client.release(true);
  }
}
