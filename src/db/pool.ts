// PostgreSQL connection pool and the create-database-if-missing step.
import pg from 'pg';
import type { Logger } from 'pino';
import { type PgConnectionWatch, isPgConnectionError } from '../observability/connection-watch.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// Keep timestamps as Date, bigint counters as numbers (our counters stay far below 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

/**
 * Opens a pool on the given URL; idle-client errors are logged, never thrown. An idle client
 * only errs when its connection dies, so each such error tells the watch PostgreSQL went away.
 */
export function createPool(databaseUrl: string, max: number, log?: Logger, watch?: PgConnectionWatch): Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    application_name: 'enrichd',
  });
  pool.on('error', (err) => {
    if (watch && isPgConnectionError(err)) watch.failed(err);
    else log?.warn({ err: { message: err.message } }, 'postgres idle client error');
  });
  // pg-pool listens for errors only on idle clients. A checked-out client (a transaction,
  // the migrator) whose connection drops emits 'error' too, and with no listener that
  // crashes the process; its caller already sees the failure through the query.
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      if (watch && isPgConnectionError(err)) watch.failed(err);
    });
  });
  return pool;
}

/** The database name a URL points at. */
export function databaseName(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, '')) || 'postgres';
}

/** Creates the URL's database when it does not exist yet (safe when several processes race). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = databaseName(databaseUrl);
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const client = new pg.Client({ connectionString: adminUrl.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1::text', [name]);
    if (found.rowCount) return false;
    try {
      // CREATE DATABASE takes no parameters; the identifier is quoted by PostgreSQL itself.
      const { rows } = await client.query<{ q: string }>('SELECT quote_ident($1::text) AS q', [name]);
      await client.query(`CREATE DATABASE ${rows[0]!.q}`);
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false; // created by a concurrent process
      throw err;
    }
  } finally {
    await client.end();
  }
}
