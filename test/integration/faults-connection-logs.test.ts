// Lost and restored connections are logged, once each per outage, by a real enrichd process:
// Redis through a private redis-server, PostgreSQL through a TCP proxy the test can cut (the
// shared PostgreSQL is never stopped) and through pg_terminate_backend on the process's backends.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/api/token.js';
import { createPool } from '../../src/db/pool.js';
import { withSystem, withTenant } from '../../src/db/transaction.js';
import type { Job } from '../../src/jobs/job.js';
import { type Child, type LogLine, PrivateRedis, TcpProxy, freePort, killAllChildren, sleep, spawnEnrichd } from '../helpers/processes.js';
import { createTestDatabase, testPrefix, waitFor } from '../helpers/system.js';
import { PG_BASE, TEST_APP_ROLE, TEST_JWT_SECRET } from '../helpers/urls.js';

let redis: PrivateRedis;
let proxy: TcpProxy;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let admin: pg.Pool;
let proc: Child;
let port: number;

beforeAll(async () => {
  redis = await PrivateRedis.start();
  db = await createTestDatabase('logs');
  // Its own application_name, so terminating the process's backends spares it; and, as in
  // createPool, a listener so a connection ended under it (DROP ... FORCE) cannot crash the run.
  admin = new pg.Pool({ connectionString: db.url, max: 2, application_name: 'enrichd-test' });
  admin.on('connect', (client) => client.on('error', () => undefined));
  const pgUrl = new URL(PG_BASE);
  proxy = await TcpProxy.start({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  port = await freePort();
  proc = spawnEnrichd(['start'], {
    DATABASE_URL: viaProxy.toString(),
    DATABASE_APP_ROLE: TEST_APP_ROLE,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: testPrefix('logs'),
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: String(port),
    POLL_INTERVAL: '200',
    HEALTH_CHECK_INTERVAL: '500',
    STALLED_INTERVAL: '1000',
    GRACEFUL_SHUTDOWN_TIMEOUT: '2000',
    LOG_LEVEL: 'info',
  });
  await proc.waitForLine(/enrichd is running/);
  await proc.waitForLog('became leader (relay, reconciler)');
});
afterAll(async () => {
  await killAllChildren();
  await proxy?.cut();
  await admin?.end();
  await db?.drop();
  await redis?.stop();
});

/** Log lines with this message printed after the mark. */
const since = (mark: number, msg: string) => proc.logs().slice(mark).filter((l) => l.msg === msg);

async function runsAJob(): Promise<void> {
  const token = await signToken(TEST_JWT_SECRET, { tenantId: randomUUID(), ttl: '1h' });
  const res = await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'test_job' }),
  });
  expect(res.status).toBe(202);
  const job = (await res.json()) as Job;
  await waitFor(async () => {
    const r = await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs/${job.id}`, { headers: { authorization: `Bearer ${token}` } });
    return ((await r.json()) as Job).status === 'completed';
  }, 10_000);
}

describe('connection logs', () => {
  it('logs Redis lost once per connection and restored when it is back', async () => {
    const mark = proc.logs().length;
    await redis.stop();
    let lost: LogLine[];
    try {
      await proc.waitForLog('redis connection lost', 5000);
      // Reconnect attempts go on meanwhile (about ten here): they must not log a line each.
      await sleep(2000);
      lost = since(mark, 'redis connection lost');
      expect(proc.logs().length - mark, proc.output()).toBeLessThan(6);
    } finally {
      await redis.start();
    }
    const roles = lost.map((l) => String(l.redis));
    expect(new Set(roles).size, JSON.stringify(roles)).toBe(roles.length);
    expect(roles).toContain('queue');

    await waitFor(async () => since(mark, 'redis connection restored').length >= lost.length, 10_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.output()}`);
    });
    expect(since(mark, 'redis connection restored').map((l) => String(l.redis)).sort()).toEqual([...roles].sort());
    await runsAJob();
  });

  it('logs PostgreSQL lost and restored when its backends are terminated', async () => {
    const mark = proc.logs().length;
    const { rows } = await admin.query<{ n: number }>(
      'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1::text AND pid <> pg_backend_pid() AND application_name = $2::text',
      [db.name, 'enrichd'],
    );
    expect(rows[0]!.n).toBeGreaterThan(0);
    await proc.waitForLog('postgres connection lost', 5000, () => proc.logs().length > mark);
    await waitFor(async () => since(mark, 'postgres connection restored').length > 0, 5000).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.output()}`);
    });
    expect(since(mark, 'postgres connection lost')).toHaveLength(1);
    expect(since(mark, 'postgres connection restored')).toHaveLength(1);
    await runsAJob();
  });

  it('logs PostgreSQL lost once during real downtime and restored when it answers again', async () => {
    const mark = proc.logs().length;
    await proxy.cut();
    try {
      await waitFor(async () => since(mark, 'postgres connection lost').length > 0, 5000).catch((err: Error) => {
        throw new Error(`${err.message}\n${proc.output()}`);
      });
      // Meanwhile a client is told the service is unavailable (503), never an internal error.
      const token = await signToken(TEST_JWT_SECRET, { tenantId: randomUUID(), ttl: '1h' });
      const res = await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'test_job' }),
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks).toMatchObject({ postgres: 'down', redis: 'up' });
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      await sleep(1500);
      expect(since(mark, 'postgres connection lost')).toHaveLength(1);
      expect(since(mark, 'postgres connection restored')).toHaveLength(0);
    } finally {
      await proxy.resume();
    }
    await waitFor(async () => since(mark, 'postgres connection restored').length > 0, 10_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.output()}`);
    });
    expect(since(mark, 'postgres connection restored')).toHaveLength(1);
    const restored = since(mark, 'postgres connection restored')[0]!;
    expect(Number(restored.downMs)).toBeGreaterThanOrEqual(1500);
    await runsAJob();
  });

  it('finishes jobs that were running while PostgreSQL went away, each completed once', async () => {
    const token = await signToken(TEST_JWT_SECRET, { tenantId: randomUUID(), ttl: '1h' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'test_job', payload: { sleepMs: 800, i } }),
      });
      ids.push(((await res.json()) as Job).id);
    }
    const running = async () =>
      (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM enrichment_jobs WHERE id = ANY($1::uuid[]) AND status = 'running'", [ids])).rows[0]!.n;
    await waitFor(async () => (await running()) === ids.length, 5000);
    // Down across the moment the attempts finish.
    await proxy.cut();
    await sleep(1500);
    await proxy.resume();
    await waitFor(async () => {
      const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM enrichment_jobs WHERE id = ANY($1::uuid[]) AND status = 'completed'", [ids]);
      return rows[0]!.n === ids.length;
    }, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.output()}`);
    });
    const { rows } = await admin.query<{ job_id: string; n: number }>(
      "SELECT job_id, count(*)::int AS n FROM enrichment_job_events WHERE job_id = ANY($1::uuid[]) AND to_status = 'completed' GROUP BY job_id",
      [ids],
    );
    expect(rows.map((r) => r.n)).toEqual(ids.map(() => 1));
  });

  it('exits 0 on SIGTERM after all that', async () => {
    const exit = await proc.stop();
    expect(exit, proc.output()).toEqual({ code: 0, signal: null });
    expect(proc.logs().some((l) => l.msg === 'stopped')).toBe(true);
  });
});

describe('a connection cut under a checked-out client', () => {
  // In this process: an unhandled 'error' from pg would crash the test worker itself.
  it('fails the transaction and leaves the process standing', async () => {
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    await proxy.resume();
    const pool = createPool(viaProxy.toString(), 4);
    try {
      const client = await pool.connect();
      expect(client.listenerCount('error')).toBeGreaterThan(0);
      client.release();

      const tenantId = randomUUID();
      await pool.query('INSERT INTO tenants (id) VALUES ($1::uuid) ON CONFLICT DO NOTHING', [tenantId]);
      // One transaction mid-query, one holding its client between queries.
      const busy = withTenant(pool, TEST_APP_ROLE, tenantId, (tx) => tx.query('SELECT pg_sleep(5)'));
      let idleHeld!: () => void;
      const idle = withSystem(pool, async (tx) => {
        await tx.query('SELECT 1');
        await new Promise<void>((r) => (idleHeld = r));
        await tx.query('SELECT 1');
      });
      await sleep(300);
      await proxy.cut();
      await expect(busy).rejects.toThrow(/terminated|closed|ECONNRESET/i);
      await sleep(100);
      idleHeld();
      await expect(idle).rejects.toThrow();
      await proxy.resume();
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await pool.end().catch(() => undefined);
    }
  });
});
