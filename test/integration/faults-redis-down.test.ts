// Redis down at submit: the job is accepted and recorded, queued when Redis is back, and an API
// killed meanwhile loses nothing. A private redis-server, so stopping it disturbs no one.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pool, createPool } from '../../src/db/pool.js';
import { signToken } from '../../src/api/token.js';
import type { Job } from '../../src/jobs/job.js';
import { getJson, jobEvents, postJson } from '../helpers/api.js';
import { type Child, PrivateRedis, freePort, killAllChildren, spawnEnrichd } from '../helpers/processes.js';
import { type TestSystem, createTestDatabase, startTestSystem, testPrefix, waitFor } from '../helpers/system.js';
import { TEST_APP_ROLE, TEST_JWT_SECRET } from '../helpers/urls.js';

interface DispatchRow {
  status: string;
  dispatched_at: Date | null;
}

let redis: PrivateRedis;

beforeAll(async () => {
  redis = await PrivateRedis.start();
});
afterAll(async () => {
  await killAllChildren();
  await redis?.stop();
});

describe('Redis down at submit (in-process)', () => {
  let sys: TestSystem;
  let token: string;

  beforeAll(async () => {
    sys = await startTestSystem({ env: { REDIS_URL: redis.url } });
    token = await sys.token();
  });
  afterAll(async () => {
    if (!redis.running) await redis.start();
    await sys?.close();
  });

  const row = async (id: string) =>
    (await sys.services.pool.query<DispatchRow>('SELECT status, dispatched_at FROM enrichment_jobs WHERE id = $1::uuid', [id])).rows[0];

  it('answers 202 pending within 1 s, reports Redis not ready, and runs the job once Redis is back', async () => {
    // A first job proves the system runs before the fault.
    const warm = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job' });
    await waitFor(async () => (await row(warm.body.id))?.status === 'completed', 10_000);

    await redis.stop();
    await waitFor(async () => sys.services.redis.status !== 'ready', 5000);

    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: { n: i } })),
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(1000);
    for (const a of answers) {
      expect(a.status).toBe(202);
      expect(a.body.status).toBe('pending');
      expect(a.headers.location).toBe(`/v1/enrichment/jobs/${a.body.id}`);
      expect((await row(a.body.id))?.dispatched_at).toBeNull();
    }

    const ready = await sys.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    const readyBody = ready.json() as { error: { code: string; message: string; details: { path: string }[] }; checks: Record<string, string> };
    expect(readyBody.error.code).toBe('unavailable');
    expect(readyBody.error.message).toMatch(/Redis/);
    expect(readyBody.error.details.map((d) => d.path)).toEqual(['redis']);
    expect(readyBody.checks).toEqual({ postgres: 'up', redis: 'down' });
    expect((await sys.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);

    // A while down: the relay must not mark anything dispatched that Redis never took.
    await new Promise((r) => setTimeout(r, 1000));
    for (const a of answers) expect((await row(a.body.id))?.dispatched_at).toBeNull();

    await redis.start();
    const back = Date.now();
    await waitFor(async () => {
      for (const a of answers) if (!(await row(a.body.id))?.dispatched_at) return false;
      return true;
    }, 5000);
    const dispatchedAfterMs = Date.now() - back;
    expect(dispatchedAfterMs).toBeLessThan(5000);

    for (const a of answers) {
      const done = await waitFor(async () => {
        const r = await getJson<Job>(sys.app, `/v1/enrichment/jobs/${a.body.id}`, token);
        return r.body.status === 'completed' ? r.body : null;
      }, 15_000);
      expect(done.attempts).toBe(1);
      const events = await jobEvents(sys, a.body.id);
      expect(events.filter((e) => e.to_status === 'completed')).toHaveLength(1);
    }
    expect((await sys.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });
});

describe('Redis down, API process killed', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  const prefix = testPrefix('kill');

  beforeAll(async () => {
    if (!redis.running) await redis.start();
    db = await createTestDatabase('kill');
    pool = createPool(db.url, 2);
  });
  afterAll(async () => {
    await killAllChildren();
    await pool?.end();
    await db?.drop();
  });

  it('loses nothing: a later process dispatches and completes the job', async () => {
    const env = (port: number) => ({
      DATABASE_URL: db.url,
      DATABASE_APP_ROLE: TEST_APP_ROLE,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      JWT_SECRET: TEST_JWT_SECRET,
      PORT: String(port),
      POLL_INTERVAL: '200',
      STALLED_INTERVAL: '1000',
      GRACEFUL_SHUTDOWN_TIMEOUT: '2000',
      LOG_LEVEL: 'info',
    });
    const port = await freePort();
    const api: Child = spawnEnrichd(['api'], env(port));
    await api.waitForLog('api listening');

    await redis.stop();
    await api.waitForLog('redis connection lost', 5000, (l) => l.redis === 'queue');

    const token = await signToken(TEST_JWT_SECRET, { tenantId: randomUUID(), ttl: '1h' });
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'test_job', payload: { sleepMs: 50 } }),
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.status).toBe(202);
    const job = (await res.json()) as Job;
    expect(job.status).toBe('pending');

    api.kill('SIGKILL');
    expect((await api.exited).signal).toBe('SIGKILL');

    const stored = (await pool.query<DispatchRow>('SELECT status, dispatched_at FROM enrichment_jobs WHERE id = $1::uuid', [job.id])).rows[0];
    expect(stored).toEqual({ status: 'pending', dispatched_at: null });

    await redis.start();
    const worker = spawnEnrichd(['worker'], env(0));
    const done = await waitFor(async () => {
      const r = (await pool.query<{ status: string; dispatched_at: Date | null }>('SELECT status, dispatched_at FROM enrichment_jobs WHERE id = $1::uuid', [job.id])).rows[0];
      return r?.status === 'completed' ? r : null;
    }, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${worker.output()}`);
    });
    expect(done.dispatched_at).not.toBeNull();
    expect(worker.logs().some((l) => l.msg === 'relay queued undispatched jobs')).toBe(true);

    const exit = await worker.stop();
    expect(exit).toEqual({ code: 0, signal: null });
  });
});

describe('Redis down at shutdown', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const prefix = testPrefix('down-stop');

  beforeAll(async () => {
    if (!redis.running) await redis.start();
    db = await createTestDatabase('downstop');
  });
  afterAll(async () => {
    await killAllChildren();
    if (!redis.running) await redis.start();
    await db?.drop();
  });

  const grace = 2000;
  const startEnv = async () => ({
    DATABASE_URL: db.url,
    DATABASE_APP_ROLE: TEST_APP_ROLE,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: String(await freePort()),
    GRACEFUL_SHUTDOWN_TIMEOUT: String(grace),
    LOG_LEVEL: 'info',
  });

  it('SIGTERM still shuts `enrichd start` down with exit 0 within the grace', async () => {
    const proc = spawnEnrichd(['start'], await startEnv());
    await proc.waitForLine(/enrichd is running/);
    await redis.stop();
    try {
      await proc.waitForLog('redis connection lost', 5000, (l) => l.redis === 'worker');
      const started = Date.now();
      // SIGKILL only well past the grace, so a hang shows as a failed assertion.
      const exit = await proc.stop(grace + 8000);
      expect(exit, proc.output()).toEqual({ code: 0, signal: null });
      // Nothing runs, so nothing needs the grace: the process should be gone at once.
      expect(Date.now() - started).toBeLessThan(grace);
      expect(proc.logs().map((l) => l.msg)).toContain('stopped');
    } finally {
      await redis.start();
    }
  });

  it('SIGTERM while `enrichd start` is still starting exits 0 once started', async () => {
    const proc = spawnEnrichd(['start'], await startEnv());
    // Logged before the API listens: the signal lands mid-start.
    await proc.waitForLog('worker started');
    const exit = await proc.stop(grace + 8000);
    expect(exit, proc.output()).toEqual({ code: 0, signal: null });
    expect(proc.logs().map((l) => l.msg)).toContain('stopped');
  });
});
