// A worker process killed (SIGKILL) in the middle of a list job's chunks: the other worker
// re-runs what was lost, no result is written twice, and the counters end exact.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/api/token.js';
import { type Pool, createPool } from '../../src/db/pool.js';
import type { Job } from '../../src/jobs/job.js';
import { LOCAL_STEPS, seedGeneratedList, seedPlan } from '../helpers/lists.js';
import { type Child, childEnv, freePort, killAllChildren, spawnEnrichd } from '../helpers/processes.js';
import { createTestDatabase, deletePrefix, testPrefix, waitFor } from '../helpers/system.js';
import { REDIS_URL, TEST_JWT_SECRET } from '../helpers/urls.js';

const ENTRIES = 20_000;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const prefix = testPrefix('lkill');
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase('lkill');
  pool = createPool(db.url, 2);
  env = childEnv(db.url, prefix, { MAX_CONCURRENT_JOBS: '4', LIST_CHUNK_WINDOW: '4' });
});
afterAll(async () => {
  await killAllChildren();
  await pool?.end();
  await deletePrefix(REDIS_URL, prefix);
  await db?.drop();
});

describe('worker killed mid-chunk', () => {
  it('ends with one result per entry and exact counters', async () => {
    const children: Child[] = [];
    try {
      await killMidChunk(children);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${children.map((c) => c.output()).join('\n')}`, { cause: err });
    }
  });
});

async function killMidChunk(children: Child[]): Promise<void> {
  const port = await freePort();
  const api = spawnEnrichd(['api'], { ...env, PORT: String(port) });
  const workers = [spawnEnrichd(['worker'], env, 'worker A'), spawnEnrichd(['worker'], env, 'worker B')];
  children.push(api, ...workers);
  await Promise.all([api.waitForLog('api listening'), ...workers.map((w) => w.waitForLog('worker started'))]);

  const tenantId = randomUUID();
  const listId = await seedGeneratedList(pool, tenantId, ENTRIES);
  const planId = await seedPlan(pool, tenantId, LOCAL_STEPS);
  const token = await signToken(TEST_JWT_SECRET, { tenantId, ttl: '1h' });
  const res = await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'list_enrichment', payload: { listId, planId, chunkSize: 1000 } }),
  });
  expect(res.status).toBe(202);
  const job = (await res.json()) as Job;
  const progress = async () => (await pool.query<{ status: string; progress_processed: number }>('SELECT status, progress_processed FROM enrichment_jobs WHERE id = $1', [job.id])).rows[0]!;

  // Both workers are taking chunks: kill one while its chunks are in flight.
  await waitFor(async () => ((await progress()).progress_processed >= 3_000 ? true : null), 60_000, 20);
  workers[0]!.kill('SIGKILL');
  await workers[0]!.exited;
  const atKill = (await progress()).progress_processed;
  expect(atKill).toBeLessThan(ENTRIES);

  const done = await waitFor(async () => {
    const r = await pool.query<{ status: string; progress_total: number; progress_processed: number; progress_succeeded: number; progress_failed: number }>(
      'SELECT status, progress_total, progress_processed, progress_succeeded, progress_failed FROM enrichment_jobs WHERE id = $1', [job.id]);
    return r.rows[0]!.status === 'completed' ? r.rows[0]! : null;
  }, 90_000, 100);
  expect(done).toMatchObject({ progress_total: ENTRIES, progress_processed: ENTRIES, progress_succeeded: ENTRIES, progress_failed: 0 });
  const results = await pool.query<{ n: number; entries: number }>('SELECT count(*)::int AS n, count(DISTINCT entry_id)::int AS entries FROM entry_results WHERE job_id = $1', [job.id]);
  expect(results.rows[0]).toEqual({ n: ENTRIES, entries: ENTRIES });
  const chunks = await pool.query<{ n: number; done: number }>("SELECT count(*)::int AS n, count(*) FILTER (WHERE state = 'done')::int AS done FROM list_job_chunks WHERE job_id = $1", [job.id]);
  expect(chunks.rows[0]).toEqual({ n: 20, done: 20 });
  const events = await pool.query<{ to_status: string }>('SELECT to_status FROM enrichment_job_events WHERE job_id = $1 ORDER BY id', [job.id]);
  expect(events.rows.filter((e) => e.to_status === 'completed')).toHaveLength(1);

  expect(await workers[1]!.stop()).toEqual({ code: 0, signal: null });
  expect(await api.stop()).toEqual({ code: 0, signal: null });
}
