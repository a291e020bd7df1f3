// A worker frozen (SIGSTOP) mid-job: the leader marks it dead within three heartbeat intervals
// and one poll, hands its job back (recorded), and another worker completes it once. Thawed
// (SIGCONT), the worker is alive again, its stale attempt changes nothing, and it runs new jobs.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/api/token.js';
import { type Pool, createPool } from '../../src/db/pool.js';
import type { Job } from '../../src/jobs/job.js';
import { type Child, childEnv, freePort, killAllChildren, spawnEnrichd } from '../helpers/processes.js';
import { createTestDatabase, deletePrefix, testPrefix, waitFor } from '../helpers/system.js';
import { REDIS_URL, TEST_JWT_SECRET } from '../helpers/urls.js';

const HEALTH_CHECK_INTERVAL = 400;
const POLL_INTERVAL = 200;
// The frozen worker's BullMQ lock (half of this) lapses before it is found dead, so the sweep
// hands its job back at once; with no other worker running, nothing but the sweep can.
const STALLED_INTERVAL = 1000;
// Room for a loaded machine (two cores, other suites running) on top of the contract's bound.
const SLACK_MS = 1500;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const prefix = testPrefix('wsweep');
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase('wsweep');
  pool = createPool(db.url, 2);
  env = childEnv(db.url, prefix, {
    HEALTH_CHECK_INTERVAL: String(HEALTH_CHECK_INTERVAL),
    POLL_INTERVAL: String(POLL_INTERVAL),
    STALLED_INTERVAL: String(STALLED_INTERVAL),
    MAX_CONCURRENT_JOBS: '2',
  });
});
afterAll(async () => {
  await killAllChildren();
  await pool?.end();
  await deletePrefix(REDIS_URL, prefix);
  await db?.drop();
});

interface JobState {
  status: string;
  worker_id: string | null;
  attempts: number;
  result: Record<string, unknown> | null;
}
interface WorkerState {
  id: string;
  dead_at: Date | null;
  last_heartbeat_at: Date;
  silent_ms: number | null;
}
interface EventRow {
  from_status: string | null;
  to_status: string;
  worker_id: string | null;
  message: string | null;
}

const jobState = async (id: string) =>
  (await pool.query<JobState>('SELECT status, worker_id, attempts, result FROM enrichment_jobs WHERE id = $1::uuid', [id])).rows[0];
const workerState = async (pid: number) =>
  (
    await pool.query<WorkerState>(
      `SELECT id, dead_at, last_heartbeat_at, (extract(epoch FROM dead_at - last_heartbeat_at) * 1000)::int AS silent_ms
       FROM enrichment_workers WHERE pid = $1::int`,
      [pid],
    )
  ).rows[0];
const jobEvents = async (id: string) =>
  (await pool.query<EventRow>('SELECT from_status, to_status, worker_id, message FROM enrichment_job_events WHERE job_id = $1::uuid ORDER BY id', [id])).rows;

describe('worker sweep', () => {
  it('marks a frozen worker dead, hands its job to another, and takes the worker back when it thaws', async () => {
    const children: Child[] = [];
    try {
      await freezeAndThaw(children);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${children.map((c) => c.output()).join('\n')}`, { cause: err });
    }
  });
});

/** The scenario; the caller adds the children's output to a failure. */
async function freezeAndThaw(children: Child[]): Promise<void> {
  // The API leads (it starts alone): a frozen leader would hold the lock, and no sweep would run.
  const port = await freePort();
  const api = spawnEnrichd(['api'], { ...env, PORT: String(port) });
  children.push(api);
  await Promise.all([api.waitForLog('api listening'), api.waitForLog('became leader (relay, reconciler)')]);
  const a = spawnEnrichd(['worker'], env, 'worker A');
  children.push(a);
  await a.waitForLog('worker started');

  const token = await signToken(TEST_JWT_SECRET, { tenantId: randomUUID(), ttl: '1h' });
  const submit = async (payload: Record<string, unknown>) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/enrichment/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'test_job', payload }),
    });
    expect(res.status).toBe(202);
    return (await res.json()) as Job;
  };
  const completed = (id: string) =>
    waitFor(async () => {
      const r = await jobState(id);
      return r?.status === 'completed' ? r : null;
    }, 20_000);

  // 1. A runs the job, then freezes: found dead within three intervals and a poll of its last heartbeat.
  const job = await submit({ sleepMs: 2000 });
  const onA = await waitFor(async () => {
    const r = await jobState(job.id);
    return r?.status === 'running' && r.worker_id?.includes(`:${a.pid}:`) ? r : null;
  });
  a.kill('SIGSTOP');
  const frozenAt = Date.now();
  const marked = await api.waitForLog(/marked dead$/, 15_000, (l) => l.workerId === onA.worker_id);
  const foundAfterMs = Date.now() - frozenAt;
  const dead = (await workerState(a.pid))!;
  expect(dead.id).toBe(onA.worker_id);
  expect(dead.dead_at).not.toBeNull();
  const bound = 3 * HEALTH_CHECK_INTERVAL + POLL_INTERVAL;
  expect(dead.silent_ms!, `marked dead ${dead.silent_ms} ms after its last heartbeat`).toBeGreaterThanOrEqual(3 * HEALTH_CHECK_INTERVAL);
  expect(dead.silent_ms!, `marked dead ${dead.silent_ms} ms after its last heartbeat`).toBeLessThan(bound + SLACK_MS);
  expect(foundAfterMs, `found dead ${foundAfterMs} ms after the freeze`).toBeLessThan(bound + SLACK_MS);
  expect(marked.workerPid).toBe(a.pid);
  expect(api.logs().filter((l) => /marked dead$/.test(l.msg))).toHaveLength(1);

  // 2. Its job is handed back (recorded), and a worker started now takes it at once and completes it.
  const handedBack = await waitFor(async () => {
    const events = await jobEvents(job.id);
    return events.find((e) => e.from_status === 'running' && e.to_status === 'pending') ?? null;
  });
  expect(handedBack.message).toMatch(/handed back: its worker stalled, silent for 3 heartbeat intervals/);
  expect(handedBack.worker_id).toBe(onA.worker_id);
  expect((await jobState(job.id))!.status).toBe('pending');
  const b = spawnEnrichd(['worker'], env, 'worker B');
  children.push(b);
  const done = await completed(job.id);
  expect(done.worker_id).toContain(`:${b.pid}:`);
  expect(done.attempts).toBe(2);

  // 3. A thaws: its heartbeat brings it back, and its stale attempt's outcome is discarded.
  a.kill('SIGCONT');
  await a.waitForLog('worker back after being marked dead');
  await a.waitForLog('attempt outcome discarded: the job was cancelled or handed back meanwhile', 15_000, (l) => l.jobId === job.id);
  await waitFor(async () => ((await workerState(a.pid))!.dead_at === null ? true : null));
  const after = (await jobState(job.id))!;
  expect(after).toEqual(done);
  const events = await jobEvents(job.id);
  expect(events.map((e) => [e.from_status, e.to_status])).toEqual([
    [null, 'pending'],
    ['pending', 'running'],
    ['running', 'pending'],
    ['pending', 'running'],
    ['running', 'completed'],
  ]);
  expect(events[1]!.worker_id).toBe(onA.worker_id);
  expect(events[3]!.worker_id).toBe(done.worker_id);

  // 4. A, alone again, runs new work as any live worker does, each job once.
  expect(await b.stop()).toEqual({ code: 0, signal: null });
  const more = await Promise.all([submit({ sleepMs: 50 }), submit({ sleepMs: 50 })]);
  for (const j of more) {
    const r = await completed(j.id);
    expect(r.worker_id).toBe(onA.worker_id);
    expect((await jobEvents(j.id)).map((e) => e.to_status)).toEqual(['pending', 'running', 'completed']);
  }
  expect(api.logs().filter((l) => /marked dead$/.test(l.msg))).toHaveLength(1);
  expect(await a.stop()).toEqual({ code: 0, signal: null });
  expect(await api.stop()).toEqual({ code: 0, signal: null });
}
