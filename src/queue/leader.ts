// One leader at a time across all processes, through a PostgreSQL session advisory lock.
import type { Logger } from 'pino';
import type { Pool, PoolClient } from '../db/pool.js';
import type { PgConnectionWatch } from '../observability/connection-watch.js';

const LEADER_LOCK_KEY = 7_414_220_002;

/**
 * Holds the leader lock on a dedicated connection. If that connection dies, PostgreSQL
 * releases the lock and another process takes over at its next tick.
 */
export class Leadership {
  private client: PoolClient | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly watch?: PgConnectionWatch,
  ) {}

  /** Whether this process is the leader now, trying to become it if not. */
  async check(): Promise<boolean> {
    if (this.client) {
      try {
        await this.client.query('SELECT 1');
        return true;
      } catch (err) {
        this.watch?.failed(err);
        this.drop();
        this.log.warn('leader connection lost; leadership released');
      }
    }
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [LEADER_LOCK_KEY]);
      if (rows[0]?.ok) {
        this.client = client;
        client.on('error', (err) => {
          this.watch?.failed(err);
          this.drop();
        });
        this.log.info('became leader (relay, reconciler)');
        return true;
      }
      client.release();
      return false;
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
  }

  /** Gives up leadership (at shutdown). */
  async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [LEADER_LOCK_KEY]).catch(() => undefined);
    client.release();
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    client?.release(true);
  }
}
