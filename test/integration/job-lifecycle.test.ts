// A job's whole life against real PostgreSQL and Redis: run, retry, fail, priority, delay, timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { getJson, jobEvents, postJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

let sys: TestSystem;
let token: string;

const finished = (s: string) => ['completed', 'failed', 'cancelled'].includes(s);

async function submit(body: unknown): Promise<Job> {
  const res = await postJson(sys.app, '/v1/enrichment/jobs', token, body);
  expect(res.status).toBe(202);
  return res.body;
}

async function waitFinished(id: string, timeoutMs = 15_000): Promise<Job> {
  return waitFor(async () => {
    const res = await getJson(sys.app, `/v1/enrichment/jobs/${id}`, token);
    return finished(res.body.status) ? res.body : null;
  }, timeoutMs);
}

beforeAll(async () => {
  sys = await startTestSystem({ env: { MAX_CONCURRENT_JOBS: '5' } });
  token = await sys.token();
});
afterAll(async () => {
  await sys?.close();
});

describe('job lifecycle', () => {
  it('runs a test_job to completed and records every transition', async () => {
    const job = await submit({ type: 'test_job', payload: { sleepMs: 20, note: 'hello' }, tags: ['a'] });
    expect(job.status).toBe('pending');
    const done = await waitFinished(job.id);
    expect(done.status).toBe('completed');
    expect(done.attempts).toBe(1);
    expect(done.result).toMatchObject({ ok: true, attempt: 1 });
    expect(done.progress).toEqual({ total: 1, processed: 1, succeeded: 1, failed: 0 });
    expect(done.workerId).toBe(sys.parts.workers[0]!.id);
    expect(done.durationMs).toBeGreaterThanOrEqual(0);
    expect(done.startedAt).not.toBeNull();
    const events = await jobEvents(sys, job.id);
    expect(events.map((e) => [e.from_status, e.to_status])).toEqual([
      [null, 'pending'],
      ['pending', 'running'],
      ['running', 'completed'],
    ]);
  });

  it('retries with backoff to success (fail: once)', async () => {
    const job = await submit({ type: 'test_job', payload: { fail: 'once' } });
    const done = await waitFinished(job.id);
    expect(done.status).toBe('completed');
    expect(done.attempts).toBe(2);
    expect(done.lastError?.message).toMatch(/failed on purpose/);
    const events = await jobEvents(sys, job.id);
    expect(events.map((e) => e.to_status)).toEqual(['pending', 'running', 'retrying', 'running', 'completed']);
    expect(events.filter((e) => e.to_status === 'completed')).toHaveLength(1);
  });

  it('fails after maxAttempts (fail: always) and keeps the last error', async () => {
    const job = await submit({ type: 'test_job', payload: { fail: 'always' }, maxAttempts: 3 });
    const done = await waitFinished(job.id);
    expect(done.status).toBe('failed');
    expect(done.attempts).toBe(3);
    expect(done.lastError).toMatchObject({ code: 'handler_error' });
    expect(done.progress).toMatchObject({ processed: 1, failed: 1 });
    const events = await jobEvents(sys, job.id);
    expect(events.map((e) => e.to_status)).toEqual(['pending', 'running', 'retrying', 'running', 'retrying', 'running', 'failed']);
  });

  it('accepts maxRetries as maxAttempts + 1', async () => {
    const job = await submit({ type: 'test_job', payload: { fail: 'always' }, maxRetries: 1 });
    expect(job.maxAttempts).toBe(2);
    const done = await waitFinished(job.id);
    expect(done.attempts).toBe(2);
    expect(done.status).toBe('failed');
  });

  it('fails an attempt that runs past its timeout', async () => {
    const job = await submit({ type: 'test_job', payload: { sleepMs: 5000 }, timeoutMs: 200, maxAttempts: 1 });
    const done = await waitFinished(job.id);
    expect(done.status).toBe('failed');
    expect(done.lastError).toMatchObject({ code: 'timeout' });
  });

  it('runs a delayed job (delayMs) as scheduled, then after its delay', async () => {
    const before = Date.now();
    const job = await submit({ type: 'test_job', delayMs: 1200 });
    expect(job.status).toBe('scheduled');
    expect(new Date(job.runAt!).getTime()).toBeGreaterThanOrEqual(before + 1200);
    const done = await waitFinished(job.id);
    expect(done.status).toBe('completed');
    expect(new Date(done.startedAt!).getTime()).toBeGreaterThanOrEqual(before + 1150);
    const events = await jobEvents(sys, job.id);
    expect(events.map((e) => [e.from_status, e.to_status])).toEqual([
      [null, 'scheduled'],
      ['scheduled', 'pending'],
      ['pending', 'running'],
      ['running', 'completed'],
    ]);
  });

  it('runs a job with a past runAt now', async () => {
    const job = await submit({ type: 'test_job', runAt: new Date(Date.now() - 60_000).toISOString() });
    expect(job.status).toBe('pending');
    expect((await waitFinished(job.id)).status).toBe('completed');
  });

  it('schedules by runAt in the future', async () => {
    const runAt = new Date(Date.now() + 800).toISOString();
    const job = await submit({ type: 'test_job', runAt });
    expect(job.status).toBe('scheduled');
    expect(job.runAt).toBe(runAt);
    const done = await waitFinished(job.id);
    expect(new Date(done.startedAt!).getTime()).toBeGreaterThanOrEqual(new Date(runAt).getTime() - 50);
  });
});
