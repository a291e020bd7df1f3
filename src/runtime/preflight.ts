// Checks that PostgreSQL and Redis answer before a process starts, and says how to fix it if not.
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from '../config.js';

/** A URL safe to print: the password replaced. */
export function printableUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

async function checkPostgres(databaseUrl: string): Promise<string | null> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRedis(redisUrl: string): Promise<string | null> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // connect() rejects with a bare "Connection is closed"; the cause (ECONNREFUSED, ...) comes as an event.
  let cause: string | undefined;
  redis.on('error', (err: Error) => {
    cause ??= err.message;
  });
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return cause ?? ((err as Error).message || String(err));
  } finally {
    // Disconnecting a connection that already ended arms a 2 s timer that keeps the process alive.
    if (redis.status !== 'end') redis.disconnect();
  }
}

const sentence = (text: string) => text.replace(/[.\s]+$/, '');

/** Returns one message per unreachable store (empty when both answer). */
export async function preflight(config: Config): Promise<string[]> {
  const [pgErr, redisErr] = await Promise.all([checkPostgres(config.databaseUrl), checkRedis(config.redisUrl)]);
  const problems: string[] = [];
  if (pgErr) {
    problems.push(
      `PostgreSQL is not reachable at ${printableUrl(config.databaseUrl)} (DATABASE_URL): ${sentence(pgErr)}.\n` +
        '  Start it (Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, or systemctl start postgresql),\n' +
        '  or point DATABASE_URL at a running server.',
    );
  }
  if (redisErr) {
    problems.push(
      `Redis is not reachable at ${printableUrl(config.redisUrl)} (REDIS_URL): ${sentence(redisErr)}.\n` +
        '  Start it (redis-server --daemonize yes, or systemctl start redis-server), or point REDIS_URL at a running server.',
    );
  }
  return problems;
}
