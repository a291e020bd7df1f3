// One leader at a time across all processes, through a PostgreSQL session advisory lock.
import type { Logger } from 'pino';
import type { Pool, PoolClient } from '../db/pool.js';
import type { PgConnectionWatch } from '../observability/connection-watch.js';

const LEADER_LOCK_KEY = 7_414_220_002;

// A leader that stops running (SIGSTOP, a paused VM) keeps its socket, and the kernel keeps
// answering for it, so neither TCP nor PostgreSQL would ever free the lock. So the lock's
// connection pings every KEEPALIVE_MS from a timer (which runs while long leader duties wait
// on other connections, and stops with the process), and PostgreSQL ends the session, and
// with it the lock, after IDLE_TIMEOUT_MS without one.
const KEEPALIVE_MS = 1000;
const IDLE_TIMEOUT_MS = 5000;

/**
 * Holds the leader lock on a dedicated connection. If that connection dies, PostgreSQL
 * releases the lock and another process takes over at its next tick.
 */
export class Leadership {
  private client: PoolClient | undefined;
  private keepalive: NodeJS.Timeout | undefined;

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
        // idle_session_timeout exists from PostgreSQL 14; before it, a frozen leader holds on.
        await client.query(`SET idle_session_timeout = ${IDLE_TIMEOUT_MS}`).catch(() => undefined);
        this.keepalive = setInterval(() => {
          this.client?.query('SELECT 1').catch(() => undefined); // a failure is seen and handled by the next check
        }, KEEPALIVE_MS);
        this.keepalive.unref();
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
    clearInterval(this.keepalive);
    if (!client) return;
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [LEADER_LOCK_KEY]).catch(() => undefined);
    await client.query('RESET idle_session_timeout').catch(() => undefined);
    client.release();
  }

  /** Lets go of a lock connection that failed (an error event, or a failed check), once. */
  private drop(): void {
    const client = this.client;
    this.client = undefined;
    clearInterval(this.keepalive);
    if (!client) return;
    client.release(true);
    this.log.warn('leader connection lost; leadership released');
  }
}
