// Celery interoperability against a real Celery 5 worker (Debian's python3-celery) serving
// examples/celery/enrichd_tasks.py: values, exceptions, progress, enrichd's retries and delays,
// cancel (taken back from the queue, or revoked once prefetched), submit refusals, a
// CELERY_ROUTES type, and 1,000 tasks at once.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { celeryTaskId, queueListKeys } from '../../src/celery/message.js';
import type { Job } from '../../src/jobs/job.js';
import { getJson, jobEvents, postJson } from '../helpers/api.js';
import { type CeleryWorker, startCeleryWorker } from '../helpers/celery-worker.js';
import { PrivateRedis } from '../helpers/processes.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';
import { REDIS_URL } from '../helpers/urls.js';

// A Redis database of this file's own (the bench uses 12): queue lists, results and kombu's keys.
const BROKER_URL = `${REDIS_URL}/11`;

let worker: CeleryWorker;
let sys: TestSystem;
let token: string;

const finished = (s: string) => ['completed', 'failed', 'cancelled'].includes(s);

async function submit(body: Record<string, unknown>): Promise<Job> {
  const res = await postJson(sys.app, '/v1/enrichment/jobs', token, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
}

function celery(task: string, args: unknown[] = [], extra: Record<string, unknown> = {}, queue = worker.queue): Record<string, unknown> {
  return { type: 'celery_task', payload: { task, args, queue }, ...extra };
}

async function getJob(id: string): Promise<Job> {
  return (await getJson(sys.app, `/v1/enrichment/jobs/${id}`, token)).body;
}

async function waitFinished(id: string, timeoutMs = 20_000): Promise<Job> {
  return waitFor(async () => {
    const job = await getJob(id);
    return finished(job.status) ? job : null;
  }, timeoutMs);
}

async function queued(queue: string): Promise<number> {
  let n = 0;
  for (const k of queueListKeys(queue)) n += await worker.redis.llen(k);
  return n;
}

beforeAll(async () => {
  // prefork: its pool drops a revoked task that it has prefetched (the threads pool runs it anyway).
  worker = await startCeleryWorker({ brokerUrl: BROKER_URL, concurrency: 4, pool: 'prefork' });
  sys = await startTestSystem({
    env: {
      CELERY_BROKER_URL: BROKER_URL,
      CELERY_ROUTES: JSON.stringify({ score_leads: { task: 'enrichd_tasks.score_lead', queue: worker.queue } }),
      CELERY_ALLOWED_TASKS: 'enrichd_tasks.*',
      MAX_CONCURRENT_JOBS: '50',
      POLL_INTERVAL: '100',
    },
  });
  token = await sys.token();
});

afterAll(async () => {
  await sys?.close();
  await worker?.stop();
});

describe('celery tasks through enrichd', () => {
  it('records a returned value as {value}', async () => {
    const job = await submit(celery('enrichd_tasks.add', [2, 3]));
    const done = await waitFinished(job.id);
    expect(done.status).toBe('completed');
    expect(done.result).toEqual({ value: 5 });
    expect(done.attempts).toBe(1);
    expect(done.progress).toEqual({ total: 1, processed: 1, succeeded: 1, failed: 0 });
    expect((await jobEvents(sys, job.id)).map((e) => e.to_status)).toEqual(['pending', 'running', 'completed']);
    // The result was taken into PostgreSQL and removed from the backend (UNLINKs leave in batches, 100 ms apart).
    await vi.waitFor(async () => expect(await worker.redis.exists(`celery-task-meta-${celeryTaskId(job.id, 1)}`)).toBe(0), { timeout: 2000, interval: 50 });
  });

  it('fails with the exception type and message, no traceback, after enrichd\'s retries', async () => {
    const job = await submit(celery('enrichd_tasks.fail', ['bad input'], { maxAttempts: 2 }));
    const done = await waitFinished(job.id);
    expect(done.status).toBe('failed');
    expect(done.attempts).toBe(2);
    expect(done.lastError).toMatchObject({ message: 'ValueError: bad input', type: 'ValueError', code: 'celery_task_failed' });
    expect(JSON.stringify(done)).not.toMatch(/Traceback|File "/);
    expect((await jobEvents(sys, job.id)).map((e) => e.to_status)).toEqual(['pending', 'running', 'retrying', 'running', 'failed']);
  });

  it('follows PROGRESS states', async () => {
    const job = await submit(celery('enrichd_tasks.progress', [5, 0.15]));
    const midway = await waitFor(async () => {
      const j = await getJob(job.id);
      return j.status === 'running' && j.progress.total === 5 && j.progress.processed >= 1 && j.progress.processed < 5 ? j : null;
    }, 10_000, 20);
    expect(midway.progress.total).toBe(5);
    const done = await waitFinished(job.id);
    expect(done.status).toBe('completed');
    expect(done.result).toEqual({ value: { counted: 5 } });
  });

  it('retries a failed task as a new Celery task until it succeeds', async () => {
    const key = randomBytes(4).toString('hex');
    const job = await submit(celery('enrichd_tasks.fail_once', [key]));
    const done = await waitFinished(job.id);
    expect(done.status).toBe('completed');
    expect(done.attempts).toBe(2);
    expect(done.result).toEqual({ value: { key, runs: 2 } });
    expect(done.lastError?.message).toBe(`RuntimeError: first run for ${key} fails on purpose`);
  });

  it('sends a delayed job only when it is due', async () => {
    const idle = `${worker.queue}-delayed`;
    const job = await submit({ type: 'celery_task', payload: { task: 'enrichd_tasks.add', args: [1, 2], queue: idle }, delayMs: 1500 });
    expect(job.status).toBe('scheduled');
    await new Promise((r) => setTimeout(r, 700));
    expect(await queued(idle)).toBe(0); // no long eta: nothing is on the broker yet
    const sent = await waitFor(async () => ((await queued(idle)) === 1 ? await worker.redis.lindex(queueListKeys(idle)[2]!, 0) : null), 10_000, 20);
    const message = JSON.parse(sent) as { headers: { eta: unknown; id: string } };
    expect(message.headers.eta).toBeNull();
    expect(message.headers.id).toBe(celeryTaskId(job.id, 1));
    expect(Date.now() - new Date(job.createdAt).getTime()).toBeGreaterThanOrEqual(1400);
    await sys.app.inject({ method: 'DELETE', url: `/v1/enrichment/jobs/${job.id}`, headers: { authorization: `Bearer ${token}` } });
  });

  it('takes a cancelled job\'s waiting task back from the queue', async () => {
    const idle = `${worker.queue}-idle`;
    const job = await submit({ type: 'celery_task', payload: { task: 'enrichd_tasks.add', args: [1, 2], queue: idle }, priority: 1 });
    await waitFor(async () => (await queued(idle)) === 1, 10_000, 20);
    const res = await sys.app.inject({ method: 'DELETE', url: `/v1/enrichment/jobs/${job.id}`, headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    await waitFor(async () => (await queued(idle)) === 0, 5000, 20);
    expect((await getJob(job.id)).status).toBe('cancelled');
  });

  it('revokes a cancelled job\'s task that a worker has prefetched, so it never runs', async () => {
    const sleepers = await Promise.all([0, 1, 2, 3].map(() => submit(celery('enrichd_tasks.sleep', [1.5]))));
    await waitFor(async () => (await Promise.all(sleepers.map((s) => getJob(s.id)))).every((j) => j.status === 'running'), 10_000, 20);
    await new Promise((r) => setTimeout(r, 200)); // all four started on the worker's four threads
    const mark = randomBytes(4).toString('hex');
    const job = await submit(celery('enrichd_tasks.sleep', [0, mark]));
    // Prefetched: off the queue list, held by the busy worker.
    await waitFor(async () => (await getJob(job.id)).status === 'running' && (await queued(worker.queue)) === 0, 10_000, 20);
    const res = await sys.app.inject({ method: 'DELETE', url: `/v1/enrichment/jobs/${job.id}`, headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    await Promise.all(sleepers.map((s) => waitFinished(s.id)));
    const meta = await waitFor(() => worker.redis.get(`celery-task-meta-${celeryTaskId(job.id, 1)}`), 10_000);
    expect(JSON.parse(meta).status).toBe('REVOKED');
    expect(await worker.redis.exists(`enrichd-example:ran:${mark}`)).toBe(0);
    expect((await getJob(job.id)).status).toBe('cancelled');
  });

  it('sends a CELERY_ROUTES type with kwargs {job_id, tenant_id, ...payload}', async () => {
    const job = await submit({ type: 'score_leads', payload: { first_name: 'Ada', email: 'ada@example.org', tenant_id: 'spoofed' } });
    const done = await waitFinished(job.id);
    expect(done.status).toBe('completed');
    expect(done.result).toEqual({ value: { job_id: job.id, tenant_id: job.tenantId, fields: 2 } });
  });

  it('runs 1,000 tasks at once and records every result', async () => {
    const ids: { id: string; n: number }[] = [];
    for (let start = 0; start < 1000; start += 200) {
      const batch = await Promise.all(Array.from({ length: 200 }, (_, i) => start + i).map(async (n) => ({ id: (await submit(celery('enrichd_tasks.add', [n, n]))).id, n })));
      ids.push(...batch);
    }
    await waitFor(async () => {
      const { rows } = await sys.services.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM enrichment_jobs WHERE id = ANY($1::uuid[]) AND status IN ('completed', 'failed', 'cancelled')", [ids.map((i) => i.id)]);
      return rows[0]!.n === ids.length;
    }, 45_000, 200);
    const { rows } = await sys.services.pool.query<{ id: string; status: string; result: { value: number } }>('SELECT id::text, status, result FROM enrichment_jobs WHERE id = ANY($1::uuid[])', [ids.map((i) => i.id)]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const { id, n } of ids) {
      expect(byId.get(id)?.status).toBe('completed');
      expect(byId.get(id)?.result).toEqual({ value: 2 * n });
    }
  }, 60_000);
});

describe('celery outbox', () => {
  it('sends a celery job accepted while enrichd\'s Redis was down once it is back', async () => {
    const redis = await PrivateRedis.start();
    const env = { REDIS_URL: redis.url, CELERY_BROKER_URL: BROKER_URL, CELERY_ALLOWED_TASKS: 'enrichd_tasks.*', POLL_INTERVAL: '100' };
    const down = await startTestSystem({ env });
    try {
      const t = await down.token();
      await redis.stop();
      const res = await postJson(down.app, '/v1/enrichment/jobs', t, celery('enrichd_tasks.add', [20, 22]));
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('pending');
      await new Promise((r) => setTimeout(r, 500));
      expect((await getJson(down.app, `/v1/enrichment/jobs/${res.body.id}`, t)).body.status).toBe('pending');
      await redis.start();
      const done = await waitFor(async () => {
        const j = (await getJson(down.app, `/v1/enrichment/jobs/${res.body.id}`, t)).body;
        return finished(j.status) ? j : null;
      }, 30_000);
      expect(done.status).toBe('completed');
      expect(done.result).toEqual({ value: 42 });
    } finally {
      await down.close();
      await redis.stop();
    }
  });
});

describe('celery submit refusals', () => {
  const post = (body: string) =>
    sys.app.inject({ method: 'POST', url: '/v1/enrichment/jobs', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: body });

  it('refuses a task outside CELERY_ALLOWED_TASKS', async () => {
    const res = await post(JSON.stringify(celery('os.system', ['rm -rf /'])));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([expect.objectContaining({ path: 'payload.task', message: expect.stringMatching(/not allowed/) })]);
  });

  it('refuses arguments that are not JSON-representable, naming the field', async () => {
    // 1e999 parses to Infinity, which JSON.stringify would send to Python as null.
    const res = await post(`{"type":"celery_task","payload":{"task":"enrichd_tasks.add","args":[1, 1e999],"queue":"${worker.queue}"}}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([expect.objectContaining({ path: 'payload.args.1', message: expect.stringMatching(/Infinity/) })]);
    const nested = await post('{"type":"celery_task","payload":{"task":"enrichd_tasks.add","kwargs":{"a":{"b":[-1e999]}}}}');
    expect(nested.statusCode).toBe(400);
    expect(nested.json().error.details).toEqual([expect.objectContaining({ path: 'payload.kwargs.a.b.0' })]);
  });

  it('refuses a message over 256 KB', async () => {
    const res = await post(JSON.stringify(celery('enrichd_tasks.add', ['x'.repeat(300_000)])));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([expect.objectContaining({ path: 'payload', message: expect.stringMatching(/256 KB/) })]);
  });

  it('refuses a routed type\'s payload that cannot travel as JSON, naming its field', async () => {
    const res = await post('{"type":"score_leads","payload":{"score":1e999}}');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([expect.objectContaining({ path: 'payload.score' })]);
  });

  it('answers 422 celery_not_configured without CELERY_BROKER_URL', async () => {
    const bare = await startTestSystem({ workers: 0, leader: false });
    try {
      const res = await postJson(bare.app, '/v1/enrichment/jobs', await bare.token(), { type: 'celery_task', payload: { task: 'enrichd_tasks.add', args: [1, 2] } });
      expect(res.status).toBe(422);
      expect((res.body as unknown as { error: { code: string } }).error.code).toBe('celery_not_configured');
    } finally {
      await bare.close();
    }
  });
});
