// Redis loses everything (FLUSHALL on a private redis-server): every unfinished job is put back
// in BullMQ from PostgreSQL alone, and each runs to completion exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import type { JobHandler } from '../../src/queue/handlers/handler.js';
import { QUEUE_NAME } from '../../src/queue/queue.js';
import { type RunningParts, startParts, stopParts } from '../../src/runtime/services.js';
import { jobEvents, postJson } from '../helpers/api.js';
import { PrivateRedis, killAllChildren } from '../helpers/processes.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

let redis: PrivateRedis;
let sys: TestSystem;
let token: string;
const extraParts: RunningParts[] = [];

beforeAll(async () => {
  redis = await PrivateRedis.start();
  // No worker: the jobs must still be waiting when Redis is flushed.
  sys = await startTestSystem({ workers: 0, env: { REDIS_URL: redis.url } });
  token = await sys.token();
});
afterAll(async () => {
  for (const p of extraParts) await stopParts(p).catch(() => undefined);
  await sys?.close();
  await redis?.stop();
  await killAllChildren();
});

async function submit(body: Record<string, unknown>): Promise<Job> {
  const res = await postJson(sys.app, '/v1/enrichment/jobs', token, body);
  expect(res.status).toBe(202);
  return res.body;
}

const taskKey = (id: string) => `${sys.prefix}:${QUEUE_NAME}:${id}`;
const inQueue = async (id: string) => (await redis.command('EXISTS', taskKey(id))) === 1;
const statusOf = async (id: string) =>
  (await sys.services.pool.query<{ status: string; dispatched_at: Date | null }>('SELECT status, dispatched_at FROM enrichment_jobs WHERE id = $1::uuid', [id])).rows[0];

describe('FLUSHALL', () => {
  it('re-queues pending, scheduled and retrying jobs within 30 s, and each completes once', async () => {
    // A retrying job: a worker whose first attempt fails and which stops right away, so the
    // retry waits in Redis with nobody to take it.
    let stopped: Promise<void> | undefined;
    const failThenStop: JobHandler = async () => {
      stopped = stopParts(failing);
      throw new Error('first attempt fails');
    };
    const handlers = new Map([['test_job', failThenStop]]);
    const failing = await startParts(sys.services, { api: false, leader: false, workers: 1, handlers }, () => true);
    const retrying = await submit({ type: 'test_job', payload: { role: 'retrying' } });
    await waitFor(async () => stopped !== undefined, 10_000);
    await stopped;
    expect((await statusOf(retrying.id))?.status).toBe('retrying');

    const pending: Job[] = [];
    for (let i = 0; i < 5; i++) pending.push(await submit({ type: 'test_job', priority: (i % 5) + 1, payload: { role: 'pending', i } }));
    const scheduled = await submit({ type: 'test_job', delayMs: 3000, payload: { role: 'scheduled' } });
    expect(scheduled.status).toBe('scheduled');
    const all = [retrying, ...pending, scheduled];

    await waitFor(async () => {
      for (const j of all) if (!(await statusOf(j.id))?.dispatched_at || !(await inQueue(j.id))) return false;
      return true;
    }, 5000);

    // Atomically, or the reconciler (every 200 ms) may put keys back before we look.
    expect(await redis.transaction(['FLUSHALL'], ['DBSIZE'])).toEqual(['OK', 0]);
    const flushedAt = Date.now();

    await waitFor(async () => {
      for (const j of all) if (!(await inQueue(j.id))) return false;
      return true;
    }, 30_000);
    const requeuedAfterMs = Date.now() - flushedAt;
    expect(requeuedAfterMs).toBeLessThan(30_000);
    // Still nobody runs them: the statuses are as before the flush.
    expect((await statusOf(retrying.id))?.status).toBe('retrying');
    expect((await statusOf(scheduled.id))?.status).toBe('scheduled');
    for (const j of pending) expect((await statusOf(j.id))?.status).toBe('pending');

    extraParts.push(await startParts(sys.services, { api: false, leader: false, workers: 1 }, () => true));
    await waitFor(async () => {
      for (const j of all) if ((await statusOf(j.id))?.status !== 'completed') return false;
      return true;
    }, 15_000);

    for (const j of all) {
      const events = await jobEvents(sys, j.id);
      expect(events.filter((e) => e.to_status === 'completed'), `job ${j.id}`).toHaveLength(1);
    }
    expect((await jobEvents(sys, retrying.id)).map((e) => e.to_status)).toEqual(['pending', 'running', 'retrying', 'running', 'completed']);
    const { rows } = await sys.services.pool.query<{ started_at: Date; run_at: Date }>('SELECT started_at, run_at FROM enrichment_jobs WHERE id = $1::uuid', [scheduled.id]);
    // The flush must not make a scheduled job run early.
    expect(rows[0]!.started_at.getTime()).toBeGreaterThanOrEqual(rows[0]!.run_at.getTime() - 50);
  });

  it('keeps a running worker consuming after a second flush', async () => {
    if (extraParts.length === 0) extraParts.push(await startParts(sys.services, { api: false, leader: false, workers: 1 }, () => true));
    const before = Date.now();
    await redis.command('FLUSHALL');
    const jobs: Job[] = [];
    for (let i = 0; i < 3; i++) jobs.push(await submit({ type: 'test_job', payload: { after: 'second flush', i } }));
    await waitFor(async () => {
      for (const j of jobs) if ((await statusOf(j.id))?.status !== 'completed') return false;
      return true;
    }, 15_000);
    expect(Date.now() - before).toBeLessThan(15_000);
    for (const j of jobs) expect((await jobEvents(sys, j.id)).filter((e) => e.to_status === 'completed')).toHaveLength(1);
  });
});
