// tenant_cleanup survives a real crash: the worker process running it is killed (SIGKILL)
// after some batches; another worker takes the job over, continues where the batches stopped,
// and the result still reports every row removed, per table, exactly once.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/api/token.js';
import { type Pool, createPool } from '../../src/db/pool.js';
import type { Job } from '../../src/jobs/job.js';
import { seedGeneratedList } from '../helpers/lists.js';
import { type Child, assertBuilt, childEnv, freePort, killAllChildren, spawnEnrichd } from '../helpers/processes.js';
import { createTestDatabase, deletePrefix, testPrefix, waitFor } from '../helpers/system.js';
import { REDIS_URL, TEST_JWT_SECRET } from '../helpers/urls.js';

const ENTRIES = 40_000;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const prefix = testPrefix('gcrash');
let env: Record<string, string>;

beforeAll(async () => {
  assertBuilt();
  db = await createTestDatabase('gcrash');
  pool = createPool(db.url, 2);
  // small batches, so the cleanup is still under way when its worker is killed
  env = childEnv(db.url, prefix, { RETENTION_BATCH_SIZE: '200' });
});
afterAll(async () => {
  await killAllChildren();
  await pool?.end();
  await deletePrefix(REDIS_URL, prefix);
  await db?.drop();
});

describe('tenant_cleanup after a crash', () => {
  it('resumes on another worker and reports exact totals', async () => {
    const children: Child[] = [];
    try {
      await crashAndResume(children);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${children.map((c) => c.output()).join('\n')}`, { cause: err });
    }
  }, 120_000);
});

async function crashAndResume(children: Child[]): Promise<void> {
  const port = await freePort();
  const api = spawnEnrichd(['api'], { ...env, PORT: String(port) });
  const first = spawnEnrichd(['worker'], env, 'worker A');
  children.push(api, first);
  await Promise.all([api.waitForLog('api listening'), first.waitForLog('worker started')]);

  const tenantId = randomUUID();
  const listId = await seedGeneratedList(pool, tenantId, ENTRIES);
  // a finished job with a result row per entry, as a list job leaves them
  const jobId = randomUUID();
  await pool.query(
    `INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, payload, max_attempts, timeout_ms, completed_at)
     VALUES ($1, $2, 'list_enrichment', 'completed', 3, $3, 3, 60000, now())`,
    [jobId, tenantId, JSON.stringify({ listId })],
  );
  await pool.query(
    `INSERT INTO entry_results (entry_id, job_id, tenant_id, list_id, results, outcomes)
     SELECT id, $1, $2, $3, '{"rpc_score":{"score":90}}', '{"rpc_score":"rpc"}' FROM list_entries WHERE list_id = $3`,
    [jobId, tenantId, listId],
  );

  const token = await signToken(TEST_JWT_SECRET, { tenantId, roles: ['admin'], ttl: '1h' });
  const res = await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'tenant_cleanup', payload: {} }),
  });
  expect(res.status).toBe(202);
  const cleanup = (await res.json()) as Job;
  const removed = async () =>
    Number((await pool.query<{ rows: string }>("SELECT coalesce(sum(rows), 0)::text AS rows FROM tenant_cleanup_progress WHERE job_id = $1 AND table_name = 'list_entries'", [cleanup.id])).rows[0]!.rows);

  // Some batches are committed: kill the worker in the middle of the cleanup.
  await waitFor(async () => ((await removed()) > 0 ? true : null), 30_000, 10);
  first.kill('SIGKILL');
  await first.exited;
  const atKill = await removed();
  expect(atKill).toBeGreaterThan(0);
  expect(atKill).toBeLessThan(ENTRIES);
  const left = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM list_entries WHERE list_id = $1', [listId]);
  expect(left.rows[0]!.n).toBe(ENTRIES - atKill);

  const second = spawnEnrichd(['worker'], env, 'worker B');
  children.push(second);
  const done = await waitFor(async () => {
    const r = await pool.query<Job & { attempts: number; result: Record<string, unknown> }>('SELECT status, attempts, result FROM enrichment_jobs WHERE id = $1', [cleanup.id]);
    return r.rows[0]!.status === 'completed' ? r.rows[0]! : null;
  }, 90_000, 100);
  expect(done.attempts).toBeGreaterThanOrEqual(2);
  const tables = (done.result as { tables: Record<string, number> }).tables;
  expect(tables.list_entries).toBe(ENTRIES);
  expect(tables.entry_results).toBe(ENTRIES);
  expect(tables.lists).toBe(1);
  expect(tables.enrichment_jobs).toBe(1);
  const rest = await pool.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM list_entries WHERE tenant_id = $1) + (SELECT count(*) FROM entry_results WHERE tenant_id = $1)
          + (SELECT count(*) FROM lists WHERE tenant_id = $1) + (SELECT count(*) FROM enrichment_jobs WHERE tenant_id = $1 AND id <> $2) AS n`,
    [tenantId, cleanup.id],
  );
  expect(Number(rest.rows[0]!.n)).toBe(0);
}
