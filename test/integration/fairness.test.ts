// TENANT_MAX_ACTIVE: a tenant with thousands of jobs holds at most N of them in Redis, and another
// tenant's one job starts at once; the rest are released in turn, in priority then FIFO order.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTenant } from '../../src/db/transaction.js';
import { type NewJob, insertJobs } from '../../src/jobs/repository.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

const CAP = 5;
let sys: TestSystem;

beforeAll(async () => {
  sys = await startTestSystem({ workers: 1, env: { TENANT_MAX_ACTIVE: String(CAP), POLL_INTERVAL: '100', MAX_CONCURRENT_JOBS: '20' } });
});
afterAll(async () => {
  await sys?.close();
});

const job = (priority: number, sleepMs = 1): NewJob => ({
  id: randomUUID(),
  type: 'test_job',
  status: 'pending',
  priority,
  payload: { sleepMs },
  tags: [],
  maxAttempts: 3,
  timeoutMs: 10_000,
  webhookUrl: null,
  runAt: null,
  idempotencyKey: null,
  requestHash: null,
});

async function newTenant(): Promise<string> {
  const id = randomUUID();
  await sys.services.pool.query('INSERT INTO tenants (id) VALUES ($1::uuid)', [id]);
  return id;
}

/** The tenant's released and unfinished jobs: what the cap bounds. */
async function activeOf(tenantId: string): Promise<number> {
  const { rows } = await sys.services.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM enrichment_jobs
     WHERE tenant_id = $1::uuid AND dispatched_at IS NOT NULL AND status IN ('pending', 'scheduled', 'running', 'retrying')`,
    [tenantId],
  );
  return rows[0]!.n;
}

async function countDone(tenantId: string): Promise<number> {
  const { rows } = await sys.services.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM enrichment_jobs WHERE tenant_id = $1::uuid AND status = 'completed'",
    [tenantId],
  );
  return rows[0]!.n;
}

it('caps a busy tenant, starts another tenant at once, and runs every job exactly once in order', { timeout: 180_000 }, async () => {
  const a = await newTenant();
  const b = await newTenant();
  const total = 5000;
  const jobs = Array.from({ length: total }, (_, i) => job(1 + (i % 5)));

  // Samples the cap all along: PostgreSQL's active set, and what Redis holds waiting.
  let maxActive = 0;
  let maxWaitingInRedis = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxActive = Math.max(maxActive, await activeOf(a));
      const c = await sys.services.queue.getJobCounts('wait', 'prioritized', 'delayed');
      maxWaitingInRedis = Math.max(maxWaitingInRedis, (c.wait ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0));
      await new Promise((r) => setTimeout(r, 25));
    }
  })();

  await Promise.all(jobs.map((j) => sys.services.submitter.submit(a, j)));
  const submittedAt = new Date();

  const bJob = job(3, 0);
  const bStart = Date.now();
  await sys.services.submitter.submit(b, bJob);
  const started = await waitFor(async () => {
    const { rows } = await sys.services.pool.query<{ started_at: Date | null }>('SELECT started_at FROM enrichment_jobs WHERE id = $1::uuid', [bJob.id]);
    return rows[0]?.started_at ? Date.now() : null;
  }, 5000, 10);
  expect(started - bStart).toBeLessThan(1000);
  // A is far from done when B has started.
  expect(await countDone(a)).toBeLessThan(total);

  await waitFor(async () => (await countDone(a)) === total, 150_000, 200);
  sampling = false;
  await sampler;
  expect(maxActive).toBeLessThanOrEqual(CAP);
  // A's at most CAP, plus B's one.
  expect(maxWaitingInRedis).toBeLessThanOrEqual(CAP + 1);

  // Exactly once: one attempt, one start each.
  const { rows: once } = await sys.services.pool.query<{ attempts: number; n: number }>(
    'SELECT attempts, count(*)::int AS n FROM enrichment_jobs WHERE tenant_id = $1::uuid GROUP BY attempts',
    [a],
  );
  expect(once).toEqual([{ attempts: 1, n: total }]);
  const { rows: starts } = await sys.services.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM enrichment_job_events WHERE tenant_id = $1::uuid AND to_status = 'running'",
    [a],
  );
  expect(starts[0]!.n).toBe(total);

  // Released after the submits ended (all waiting together): priority, then FIFO.
  const { rows: order } = await sys.services.pool.query<{ priority: number; created_at: Date }>(
    `SELECT priority, created_at FROM enrichment_jobs
     WHERE tenant_id = $1::uuid AND dispatched_at > $2::timestamptz
     ORDER BY dispatched_at, priority, created_at`,
    [a, submittedAt],
  );
  expect(order.length).toBeGreaterThan(total / 2);
  for (let i = 1; i < order.length; i++) {
    const [p, q] = [order[i - 1]!, order[i]!];
    expect(q.priority >= p.priority, `release ${i} went back from priority ${p.priority} to ${q.priority}`).toBe(true);
    if (q.priority === p.priority) expect(q.created_at.getTime()).toBeGreaterThanOrEqual(p.created_at.getTime());
  }
});

it('recovers jobs released in PostgreSQL whose tasks never reached Redis, and the tenant is not starved', { timeout: 60_000 }, async () => {
  const d = await newTenant();
  const jobs = Array.from({ length: CAP + 3 }, () => job(3, 0));
  // Recorded without the submitter, as if the process crashed after the release and before the add.
  await withTenant(sys.services.pool, sys.config.databaseAppRole, d, (tx) => insertJobs(tx, d, jobs));
  await sys.services.pool.query("UPDATE enrichment_jobs SET dispatched_at = now() - interval '10 seconds' WHERE id = ANY($1::uuid[])", [
    jobs.slice(0, CAP).map((j) => j.id),
  ]);
  expect(await activeOf(d)).toBe(CAP);
  await waitFor(async () => (await countDone(d)) === jobs.length, 30_000, 100);
  expect(await activeOf(d)).toBe(0);
});
