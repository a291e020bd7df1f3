// Managing jobs against real PostgreSQL and Redis, with no worker running (tasks stay queued):
// PUT/PATCH (priority reaches the BullMQ task), DELETE removes waiting tasks, bulk cancel and
// retry, and every illegal transition a 409 naming the current status.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { chunkTaskId, chunkTaskOptions } from '../../src/queue/queue.js';
import { getJson, jobEvents, postJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

interface ErrorBody {
  error: { code: string; message: string; details: { path: string; message: string }[] };
}

interface BulkBody {
  results: { id: string; ok: boolean; status?: string; error?: { code: string; message: string } }[];
}

let sys: TestSystem;
let tenantId: string;
let token: string;

async function call<T = Job>(method: 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, as = token): Promise<{ status: number; body: T }> {
  const res = await sys.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${as}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, body: res.json() as T };
}

async function submit(body: Record<string, unknown> = {}): Promise<Job> {
  const res = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: {}, ...body });
  expect(res.status).toBe(202);
  return res.body;
}

const task = (id: string) => sys.services.queue.getJob(id);

async function setStatus(id: string, status: string): Promise<void> {
  await sys.services.pool.query('UPDATE enrichment_jobs SET status = $2::text, completed_at = now() WHERE id = $1::uuid', [id, status]);
}

/** A running list job with two queued chunks (tasks in Redis) and one waiting chunk (none yet). */
async function runningListJob(): Promise<string> {
  const id = randomUUID();
  const listId = randomUUID();
  await sys.services.pool.query(
    `INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, payload, max_attempts, timeout_ms, attempts, started_at, dispatched_at)
     VALUES ($1::uuid, $2::uuid, 'list_enrichment', 'running', 3, jsonb_build_object('listId', $3::text, 'planId', $3::text), 3, 60000, 1, now(), now())`,
    [id, tenantId, listId],
  );
  await sys.services.pool.query(
    `INSERT INTO list_job_chunks (job_id, seq, tenant_id, list_id, first_entry_id, last_entry_id, entry_count, state)
     VALUES ($1::uuid, 0, $2::uuid, $3::uuid, 1, 10, 10, 'queued'), ($1::uuid, 1, $2::uuid, $3::uuid, 11, 20, 10, 'queued'),
            ($1::uuid, 2, $2::uuid, $3::uuid, 21, 30, 10, 'waiting')`,
    [id, tenantId, listId],
  );
  const chunk = (seq: number) => chunkTaskOptions({ jobId: id, tenantId, type: 'list_enrichment', priority: 3, seq });
  await sys.services.queue.addBulk([chunk(0), chunk(1)]);
  return id;
}

function expectConflict(res: { status: number; body: unknown }, status: string): void {
  expect(res.status).toBe(409);
  const body = res.body as ErrorBody;
  expect(body.error.code).toBe('conflict');
  expect(body.error.message).toContain(status);
  expect(body.error.details).toContainEqual({ path: 'status', message: status });
}

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0 });
  tenantId = randomUUID();
  token = await sys.token({ tenantId });
});
afterAll(async () => {
  await sys?.close();
});

describe('PUT and PATCH /v1/enrichment/jobs/:id', () => {
  it("changes the priority of the job and of its waiting BullMQ task, recording no event", async () => {
    const job = await submit({ priority: 3 });
    expect((await task(job.id))?.priority).toBe(3);
    const res = await call('PATCH', `/v1/enrichment/jobs/${job.id}`, { priority: 1 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: job.id, priority: 1, status: 'pending' });
    expect((await task(job.id))?.priority).toBe(1);
    expect(await sys.services.queue.getPrioritized()).toEqual(expect.arrayContaining([expect.objectContaining({ id: job.id })]));
    const put = await call('PUT', `/api/enrichment/jobs/${job.id}`, { priority: 5 });
    expect(put.status).toBe(200);
    expect((await task(job.id))?.priority).toBe(5);
    expect((await getJson(sys.app, `/v1/enrichment/jobs/${job.id}`, token)).body.priority).toBe(5);
    expect((await jobEvents(sys, job.id)).map((e) => e.to_status)).toEqual(['pending']);
  });

  it('gives a running list job\'s queued chunk tasks the new priority', async () => {
    const id = await runningListJob();
    const res = await call('PATCH', `/v1/enrichment/jobs/${id}`, { priority: 2 });
    expect(res.status).toBe(200);
    expect((await task(chunkTaskId(id, 0)))?.priority).toBe(2);
    expect((await task(chunkTaskId(id, 1)))?.priority).toBe(2);
    expect(await task(chunkTaskId(id, 2))).toBeUndefined();
  });

  it('changes tags and the webhook (validated as at submit; null removes it), and only what is given', async () => {
    const job = await submit({ priority: 4, tags: ['a'] });
    const tagged = await call('PATCH', `/v1/enrichment/jobs/${job.id}`, { tags: ['x', 'y'], webhookUrl: 'https://hooks.example.com/enrichd' });
    expect(tagged.status).toBe(200);
    expect(tagged.body).toMatchObject({ tags: ['x', 'y'], webhookUrl: 'https://hooks.example.com/enrichd', priority: 4 });
    const cleared = await call('PUT', `/v1/enrichment/jobs/${job.id}`, { webhookUrl: null });
    expect(cleared.body).toMatchObject({ tags: ['x', 'y'], webhookUrl: null, priority: 4 });
    const bad: [unknown, string][] = [
      [{ webhookUrl: 'http://hooks.example.com/x' }, 'webhookUrl'],
      [{ webhookUrl: 'not a url' }, 'webhookUrl'],
      [{ priority: 0 }, 'priority'],
      [{ priority: 6 }, 'priority'],
      [{ tags: ['t'.repeat(65)] }, 'tags.0'],
      [{ status: 'completed' }, 'status'],
    ];
    for (const [body, path] of bad) {
      const res = await call<ErrorBody>('PATCH', `/v1/enrichment/jobs/${job.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.details.map((d) => d.path)).toContain(path);
    }
    expect((await call('PATCH', `/v1/enrichment/jobs/${randomUUID()}`, { priority: 1 })).status).toBe(404);
    expect((await call('PATCH', `/v1/enrichment/jobs/${job.id}`, { priority: 1 }, await sys.token())).status).toBe(404);
    expect((await call('PATCH', '/v1/enrichment/jobs/nope', { priority: 1 })).status).toBe(400);
  });

  it('answers 409 naming the status for a finished job', async () => {
    for (const status of ['completed', 'failed', 'cancelled']) {
      const job = await submit();
      await setStatus(job.id, status);
      expectConflict(await call('PATCH', `/v1/enrichment/jobs/${job.id}`, { priority: 1 }), status);
      expectConflict(await call('PUT', `/v1/enrichment/jobs/${job.id}`, { tags: ['z'] }), status);
    }
  });
});

describe('DELETE /v1/enrichment/jobs/:id', () => {
  it('cancels and removes the waiting task from Redis', async () => {
    const job = await submit();
    expect(await task(job.id)).toBeDefined();
    const res = await call('DELETE', `/v1/enrichment/jobs/${job.id}`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    expect(await task(job.id)).toBeUndefined();
  });

  it("removes a running list job's queued chunk tasks", async () => {
    const id = await runningListJob();
    expect(await task(chunkTaskId(id, 0))).toBeDefined();
    const res = await call('DELETE', `/v1/enrichment/jobs/${id}`);
    expect(res.body.status).toBe('cancelled');
    expect(await task(chunkTaskId(id, 0))).toBeUndefined();
    expect(await task(chunkTaskId(id, 1))).toBeUndefined();
  });

  it('answers 409 naming the status for a finished job, and retry of an unfinished one likewise', async () => {
    const job = await submit();
    await setStatus(job.id, 'completed');
    expectConflict(await call('DELETE', `/v1/enrichment/jobs/${job.id}`), 'completed');
    const pending = await submit();
    expectConflict(await postJson(sys.app, `/v1/enrichment/jobs/${pending.id}/retry`, token, {}), 'pending');
  });
});

describe('POST /v1/enrichment/jobs/bulk', () => {
  it('cancels a mix, one result per id in input order: ok, not found, conflict naming the status', async () => {
    const [a, b, done] = [await submit(), await submit(), await submit()];
    await setStatus(done.id, 'completed');
    const theirs = (await postJson(sys.app, '/v1/enrichment/jobs', await sys.token(), { type: 'test_job' })).body;
    const missing = randomUUID();
    const ids = [b.id, missing, done.id, a.id.toUpperCase(), theirs.id, b.id];
    const res = await postJson<BulkBody>(sys.app, '/v1/enrichment/jobs/bulk', token, { jobIds: ids, action: 'cancel' });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r) => r.id)).toEqual(ids);
    expect(res.body.results.map((r) => [r.ok, r.status ?? null, r.error?.code ?? null])).toEqual([
      [true, 'cancelled', null],
      [false, null, 'not_found'],
      [false, 'completed', 'conflict'],
      [true, 'cancelled', null],
      [false, null, 'not_found'],
      [true, 'cancelled', null],
    ]);
    expect(res.body.results[2]!.error!.message).toContain('completed');
    expect(await task(a.id)).toBeUndefined();
    expect(await task(b.id)).toBeUndefined();
    expect((await getJson(sys.app, `/v1/enrichment/jobs/${theirs.id}`, token)).status).toBe(404);
  });

  it('retries cancelled and failed jobs and dispatches them; an unfinished one is a conflict', async () => {
    const [a, b, busy] = [await submit(), await submit(), await submit()];
    await call('DELETE', `/v1/enrichment/jobs/${a.id}`);
    await setStatus(b.id, 'failed');
    await sys.services.queue.remove(b.id);
    const res = await postJson<BulkBody>(sys.app, '/v1/enrichment/jobs/bulk', token, { jobIds: [a.id, busy.id, b.id], action: 'retry' });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { id: a.id, ok: true, status: 'pending' },
      { id: busy.id, ok: false, status: 'pending', error: { code: 'conflict', message: expect.stringContaining('pending') } },
      { id: b.id, ok: true, status: 'pending' },
    ]);
    expect(await task(a.id)).toBeDefined();
    expect(await task(b.id)).toBeDefined();
    expect((await jobEvents(sys, a.id)).map((e) => e.to_status)).toEqual(['pending', 'cancelled', 'pending']);
  });

  it('handles 1000 ids in one call and refuses 1001, an empty list, bad ids and unknown actions', async () => {
    const jobs = await Promise.all(Array.from({ length: 20 }, () => submit()));
    const ids = [...jobs.map((j) => j.id), ...Array.from({ length: 980 }, () => randomUUID())];
    const started = Date.now();
    const res = await postJson<BulkBody>(sys.app, '/v1/enrichment/jobs/bulk', token, { jobIds: ids, action: 'cancel' });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(1000);
    expect(res.body.results.filter((r) => r.ok)).toHaveLength(20);
    expect(Date.now() - started).toBeLessThan(5000);
    const bad: [unknown, string][] = [
      [{ jobIds: Array.from({ length: 1001 }, () => randomUUID()), action: 'cancel' }, 'jobIds'],
      [{ jobIds: [], action: 'retry' }, 'jobIds'],
      [{ jobIds: ['nope'], action: 'retry' }, 'jobIds.0'],
      [{ jobIds: [randomUUID()], action: 'delete' }, 'action'],
      [{ jobIds: [randomUUID()] }, 'action'],
    ];
    for (const [body, path] of bad) {
      const r = await postJson<ErrorBody>(sys.app, '/v1/enrichment/jobs/bulk', token, body);
      expect(r.status).toBe(400);
      expect(r.body.error.details.map((d) => d.path)).toContain(path);
    }
  });
});
