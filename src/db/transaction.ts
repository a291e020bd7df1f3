// The two ways into the database: as one tenant (application role, row-level security) or as the system.
import type { Pool, PoolClient } from './pool.js';

export type Tx = PoolClient;

/** Runs fn in a transaction as the application role with app.tenant_id set, so row-level security binds. */
export async function withTenant<T>(pool: Pool, appRole: string, tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // set_config('role', ..., true) is SET LOCAL ROLE, and it takes parameters.
    await client.query("SELECT set_config('role', $1::text, true), set_config('app.tenant_id', $2::text, true)", [
      appRole,
      tenantId,
    ]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Runs fn in a transaction as the connecting (owner) role, across tenants. Only for leader
 * and worker duties that span tenants: relay, reconciler, batched job transitions, sweeps.
 */
export async function withSystem<T>(pool: Pool, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
