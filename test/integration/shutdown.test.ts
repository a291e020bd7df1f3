// Graceful shutdown: attempts past the grace are handed back (pending) and another worker starts
// them at once; a list job survives SIGTERM of its worker and a restart with exact counts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/api/token.js';
import { type Pool, createPool } from '../../src/db/pool.js';
import type { Job } from '../../src/jobs/job.js';
import { startParts, stopParts } from '../../src/runtime/services.js';
import { getJson, jobEvents, postJson } from '../helpers/api.js';
import { LOCAL_STEPS, seedGeneratedList, seedPlan } from '../helpers/lists.js';
import { type Child, childEnv, freePort, killAllChildren, spawnEnrichd } from '../helpers/processes.js';
import { type TestSystem, createTestDatabase, deletePrefix, startTestSystem, testPrefix, waitFor } from '../helpers/system.js';
import { REDIS_URL, TEST_JWT_SECRET } from '../helpers/urls.js';

describe('shutdown in process', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem({ workers: 1 });
  });
  afterAll(async () => {
    await sys?.close();
  });

  it('hands a running attempt back at the end of the grace, and a standby worker starts it at once', async () => {
    const token = await sys.token();
    const res = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: { sleepMs: 4000 } });
    const id = res.body.id;
    const first = sys.parts.workers[0]!;
    await waitFor(async () => ((await getJson(sys.app, `/v1/enrichment/jobs/${id}`, token)).body.status === 'running' ? true : null));
    const standby = await startParts(sys.services, { api: false, leader: false, workers: 1 }, () => true);
    try {
      const closedAt = Date.now();
      await first.close(200);
      const taken = await waitFor(async () => {
        const job = (await getJson<Job>(sys.app, `/v1/enrichment/jobs/${id}`, token)).body;
        return job.status === 'running' && job.workerId === standby.workers[0]!.id ? job : null;
      }, 5_000, 20);
      expect(Date.now() - closedAt).toBeLessThan(2_000);
      expect(taken.attempts).toBe(2);
      const events = await jobEvents(sys, id);
      expect(events.map((e) => [e.from_status, e.to_status])).toEqual([[null, 'pending'], ['pending', 'running'], ['running', 'pending'], ['pending', 'running']]);
      expect(events[2]!.message).toMatch(/handed back/);
      const done = await waitFor(async () => {
        const job = (await getJson<Job>(sys.app, `/v1/enrichment/jobs/${id}`, token)).body;
        return job.status === 'completed' ? job : null;
      }, 10_000);
      expect(done.workerId).toBe(standby.workers[0]!.id);
    } finally {
      await stopParts(standby);
    }
  });
});

describe('SIGTERM during a list job, then a restart', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  const prefix = testPrefix('sigterm');
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase('sigterm');
    pool = createPool(db.url, 2);
    env = childEnv(db.url, prefix, { MAX_CONCURRENT_JOBS: '4', GRACEFUL_SHUTDOWN_TIMEOUT: '5000' });
  });
  afterAll(async () => {
    await killAllChildren();
    await pool?.end();
    await deletePrefix(REDIS_URL, prefix);
    await db?.drop();
  });

  it('ends with one result per entry and exact counters', async () => {
    const children: Child[] = [];
    try {
      const port = await freePort();
      const api = spawnEnrichd(['api'], { ...env, PORT: String(port) });
      const worker = spawnEnrichd(['worker'], env, 'worker A');
      children.push(api, worker);
      await Promise.all([api.waitForLog('api listening'), worker.waitForLog('worker started')]);
      const tenantId = randomUUID();
      const listId = await seedGeneratedList(pool, tenantId, 20_000);
      const planId = await seedPlan(pool, tenantId, LOCAL_STEPS);
      const token = await signToken(TEST_JWT_SECRET, { tenantId, ttl: '1h' });
      const res = await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'list_enrichment', payload: { listId, planId, chunkSize: 500 } }),
      });
      const job = (await res.json()) as Job;
      const row = async () => (await pool.query<{ status: string; progress_total: number; progress_processed: number; progress_succeeded: number; progress_failed: number }>(
        'SELECT status, progress_total, progress_processed, progress_succeeded, progress_failed FROM enrichment_jobs WHERE id = $1', [job.id])).rows[0]!;
      await waitFor(async () => ((await row()).progress_processed >= 3_000 ? true : null), 60_000, 20);
      expect(await worker.stop()).toEqual({ code: 0, signal: null });
      const stopped = await row();
      expect(stopped.status).toBe('running');
      expect(stopped.progress_processed).toBeLessThan(20_000);

      const restarted = spawnEnrichd(['worker'], env, 'worker B');
      children.push(restarted);
      const done = await waitFor(async () => {
        const r = await row();
        return r.status === 'completed' ? r : null;
      }, 60_000, 100);
      expect(done).toMatchObject({ progress_total: 20_000, progress_processed: 20_000, progress_succeeded: 20_000, progress_failed: 0 });
      const results = await pool.query<{ n: number; entries: number }>('SELECT count(*)::int AS n, count(DISTINCT entry_id)::int AS entries FROM entry_results WHERE job_id = $1', [job.id]);
      expect(results.rows[0]).toEqual({ n: 20_000, entries: 20_000 });
      expect(await restarted.stop()).toEqual({ code: 0, signal: null });
      expect(await api.stop()).toEqual({ code: 0, signal: null });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${children.map((c) => c.output()).join('\n')}`, { cause: err });
    }
  });
});
