// Worker processes killed (SIGKILL) mid-job: another worker takes the job over within two
// STALLED_INTERVALs, each hand-back is recorded, and the job completes exactly once.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pool, createPool } from '../../src/db/pool.js';
import { signToken } from '../../src/api/token.js';
import type { Job } from '../../src/jobs/job.js';
import { type Child, childEnv, freePort, killAllChildren, spawnEnrichd } from '../helpers/processes.js';
import { createTestDatabase, deletePrefix, testPrefix, waitFor } from '../helpers/system.js';
import { REDIS_URL, TEST_JWT_SECRET } from '../helpers/urls.js';

const STALLED_INTERVAL = 1000;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const prefix = testPrefix('wkill');
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase('wkill');
  pool = createPool(db.url, 2);
  env = childEnv(db.url, prefix, { STALLED_INTERVAL: String(STALLED_INTERVAL), MAX_CONCURRENT_JOBS: '2' });
});
afterAll(async () => {
  await killAllChildren();
  await pool?.end();
  await deletePrefix(REDIS_URL, prefix);
  await db?.drop();
});

interface Row {
  status: string;
  worker_id: string | null;
  attempts: number;
}
const jobRow = async (id: string) => (await pool.query<Row>('SELECT status, worker_id, attempts FROM enrichment_jobs WHERE id = $1::uuid', [id])).rows[0];

describe('worker killed mid-job', () => {
  it('hands the job to a standby worker, then to one started after the kill, and completes it once', async () => {
    const children: Child[] = [];
    try {
      await handOver(children);
    } catch (err) {
      // The children's logs say which step stalled.
      throw new Error(`${(err as Error).message}\n${children.map((c) => c.output()).join('\n')}`, { cause: err });
    }
  });
});

/** The scenario; the caller adds the children's output to a failure. */
async function handOver(children: Child[]): Promise<void> {
  const port = await freePort();
  const api = spawnEnrichd(['api'], { ...env, PORT: String(port) });
  const workers = [spawnEnrichd(['worker'], env, 'worker A'), spawnEnrichd(['worker'], env, 'worker B')];
  children.push(api, ...workers);
  await Promise.all([api.waitForLog('api listening'), ...workers.map((w) => w.waitForLog('worker started'))]);

  const token = await signToken(TEST_JWT_SECRET, { tenantId: randomUUID(), ttl: '1h' });
  const res = await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'test_job', payload: { sleepMs: 4000 } }),
  });
  expect(res.status).toBe(202);
  const job = (await res.json()) as Job;
  const runningOn = async (notOn?: string) =>
    waitFor(async () => {
      const r = await jobRow(job.id);
      return r?.status === 'running' && r.worker_id !== notOn ? r : null;
    }, 15_000);
  const holderOf = (r: Row) => {
    const w = children.find((c) => r.worker_id?.includes(`:${c.pid}:`));
    if (!w) throw new Error(`no child runs ${r.worker_id}`);
    return w;
  };

  // 1. A standby worker is up: it takes the job over within two STALLED_INTERVALs of the kill.
  const first = await runningOn();
  const firstHolder = holderOf(first);
  firstHolder.kill('SIGKILL');
  let killedAt = Date.now();
  await firstHolder.exited;
  const second = await runningOn(first.worker_id!);
  const standbyTookMs = Date.now() - killedAt;
  const secondHolder = holderOf(second);
  expect(secondHolder).not.toBe(firstHolder);
  expect(second.attempts).toBe(2);
  expect(standbyTookMs, `taken over after ${standbyTookMs} ms`).toBeLessThan(2 * STALLED_INTERVAL);

  // 2. No worker is left: one started after the kill takes over within two intervals of its start.
  secondHolder.kill('SIGKILL');
  killedAt = Date.now();
  await secondHolder.exited;
  const late = spawnEnrichd(['worker'], env, 'worker C');
  children.push(late);
  const third = await runningOn(second.worker_id!);
  const lateTookMs = Date.now() - killedAt;
  expect(holderOf(third)).toBe(late);
  expect(third.attempts).toBe(3);
  const bootMs = new Date((await late.waitForLog('worker started')).time!).getTime() - killedAt;
  expect(lateTookMs - bootMs, `taken over ${lateTookMs} ms after the kill, the worker up after ${bootMs} ms`).toBeLessThan(2 * STALLED_INTERVAL);

  const done = await waitFor(async () => {
    const r = await jobRow(job.id);
    return r?.status === 'completed' ? r : null;
  }, 15_000);
  expect(done.worker_id).toBe(third.worker_id);

  const { rows: events } = await pool.query<{ from_status: string | null; to_status: string; worker_id: string | null; message: string | null }>(
    'SELECT from_status, to_status, worker_id, message FROM enrichment_job_events WHERE job_id = $1::uuid ORDER BY id',
    [job.id],
  );
  expect(events.map((e) => [e.from_status, e.to_status])).toEqual([
    [null, 'pending'],
    ['pending', 'running'],
    ['running', 'pending'],
    ['pending', 'running'],
    ['running', 'pending'],
    ['pending', 'running'],
    ['running', 'completed'],
  ]);
  expect(events.filter((e) => e.to_status === 'completed')).toHaveLength(1);
  for (const handBack of events.filter((e) => e.from_status === 'running' && e.to_status === 'pending')) expect(handBack.message).toMatch(/stalled/);
  expect(new Set(events.filter((e) => e.to_status === 'running').map((e) => e.worker_id)).size).toBe(3);

  expect(await late.stop()).toEqual({ code: 0, signal: null });
  expect(await api.stop()).toEqual({ code: 0, signal: null });
}
