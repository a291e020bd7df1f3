// The two ways into the database: as one tenant (application role, row-level security) or as the system.
import type { QueryConfig, QueryResult } from 'pg';
import type { Pool, PoolClient } from './pool.js';

export type Tx = PoolClient;

const SET_TENANT = "SELECT set_config('role', $1::text, true), set_config('app.tenant_id', $2::text, true)";

/** Runs fn in a transaction as the application role with app.tenant_id set, so row-level security binds. */
export async function withTenant<T>(pool: Pool, appRole: string, tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  // set_config('role', ..., true) is SET LOCAL ROLE, and it takes parameters.
  return inTransaction(pool, (client) => [client.query(SET_TENANT, [appRole, tenantId])], fn);
}

/**
 * Runs fn in a transaction as the connecting (owner) role, across tenants. Only for leader
 * and worker duties that span tenants: relay, reconciler, batched job transitions, sweeps.
 */
export async function withSystem<T>(pool: Pool, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransaction(pool, () => [], fn);
}

/**
 * For a transaction whose statements look up batches of rows by primary key: a lookup is a
 * hit in memory, not the random disk read the planner's defaults cost it as, so with those
 * defaults (or with statistics that predate the rows) it would rather scan whole tables.
 */
export const BY_PRIMARY_KEY = "SELECT set_config('enable_seqscan', 'off', true), set_config('random_page_cost', '1.1', true)";

/**
 * Runs independent statements as the system in one transaction and one round trip: BEGIN,
 * the statements and COMMIT are written together. A failing statement aborts the
 * transaction (the COMMIT then rolls it back) and its error is thrown; nothing is kept.
 */
export async function systemBatch(pool: Pool, statements: (string | QueryConfig)[]): Promise<QueryResult[]> {
  return oneFlight(pool, statements);
}

/**
 * Runs statements as one tenant (application role, row-level security) in one transaction and
 * one round trip, like systemBatch: for a transaction whose statements need no answer from
 * each other, such as a submit batch without idempotency keys.
 */
export async function tenantBatch(pool: Pool, appRole: string, tenantId: string, statements: (string | QueryConfig)[]): Promise<QueryResult[]> {
  const results = await oneFlight(pool, [{ text: SET_TENANT, values: [appRole, tenantId] }, ...statements]);
  return results.slice(1);
}

/** BEGIN, the statements and COMMIT in one socket write; the statements' results, in order. */
async function oneFlight(pool: Pool, statements: (string | QueryConfig)[]): Promise<QueryResult[]> {
  const client = await pool.connect();
  const pipe = client as unknown as PipelineSwitch;
  pipe.pipeline = true;
  try {
    const sent: Promise<QueryResult>[] = [];
    const socket = client.connection.stream;
    socket.cork();
    try {
      sent.push(client.query('BEGIN'));
      for (const s of statements) sent.push(client.query(typeof s === 'string' ? { text: s } : s));
      sent.push(client.query('COMMIT'));
    } finally {
      socket.uncork();
    }
    const settled = await Promise.allSettled(sent);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.slice(1, -1).map((r) => (r as PromiseFulfilledResult<QueryResult>).value);
  } finally {
    pipe.pipeline = false;
    // Anything but "idle, outside a transaction" means the connection is not fit to reuse.
    const state = client.getTransactionStatus();
    client.release(state === 'I' ? undefined : new Error(`connection left in transaction state ${state}`));
  }
}

/** pg reads this flag on every send, so it may change while the client has nothing in flight. */
interface PipelineSwitch {
  pipeline: boolean;
}

/**
 * BEGIN, the setup statements and fn's first statement go out together (pg pipeline mode,
 * one socket write), so a transaction costs two round trips (that flight, then COMMIT)
 * instead of one per statement. On a busy machine every round trip is also a process
 * wake-up, which is what a short transaction mostly pays for. Order still holds: the server
 * runs them in sequence, and a failed setup leaves the transaction aborted, so fn's
 * statements fail rather than run without the tenant.
 */
async function inTransaction<T>(pool: Pool, setup: (client: PoolClient) => Promise<unknown>[], fn: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const pipe = client as unknown as PipelineSwitch;
  pipe.pipeline = true;
  try {
    const socket = client.connection.stream;
    const first: Promise<unknown>[] = [];
    let work: Promise<T>;
    socket.cork();
    try {
      first.push(client.query('BEGIN'));
      first.push(...setup(client));
      work = fn(client);
    } catch (err) {
      work = Promise.reject(err);
    } finally {
      socket.uncork();
    }
    const settled = await Promise.allSettled([...first, work]);
    // The setup's error is the cause; fn's is then only "current transaction is aborted".
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const result = (settled[settled.length - 1] as PromiseFulfilledResult<T>).value;
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // Everything sent has been answered by now (COMMIT or ROLLBACK came back last).
    pipe.pipeline = false;
    // Anything but "idle, outside a transaction" (a ROLLBACK that never arrived) is not reused.
    const state = client.getTransactionStatus();
    client.release(state === 'I' ? undefined : new Error(`connection left in transaction state ${state}`));
  }
}
