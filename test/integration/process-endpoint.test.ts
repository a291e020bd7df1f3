// The process endpoint: with only the API running (no workers), a cron's calls complete the jobs.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { getJson, postJson } from '../helpers/api.js';
import { LOCAL_STEPS, seedGeneratedList, seedPlan } from '../helpers/lists.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

const CRON_SECRET = 'cron-secret-for-tests';
let sys: TestSystem;
let off: TestSystem;
let token: string;
let tenantId: string;

const cron = (secret = CRON_SECRET) => ({ authorization: `Bearer ${secret}`, 'content-type': 'application/json' });

async function submit(body: unknown): Promise<Job> {
  const res = await postJson(sys.app, '/v1/enrichment/jobs', token, body);
  expect(res.status).toBe(202);
  return res.body;
}

async function processRun(payload: unknown = {}, url = '/v1/enrichment/process') {
  return sys.app.inject({ method: 'POST', url, headers: cron(), payload: JSON.stringify(payload) });
}

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0, env: { CRON_SECRET, RETRY_BASE_DELAY: '10', RETRY_MAX_DELAY: '20' } });
  off = await startTestSystem({ workers: 0 });
  tenantId = randomUUID();
  token = await sys.token({ tenantId });
});
afterAll(async () => {
  await sys?.close();
  await off?.close();
});

describe('process endpoint', () => {
  it('runs at most maxJobs queued jobs in the API process and says how many remain', async () => {
    const jobs = [await submit({ type: 'test_job' }), await submit({ type: 'test_job' }), await submit({ type: 'test_job' })];
    const first = await processRun({ maxJobs: 2 });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ processed: 2, remaining: 1 });
    // Vercel's cron: GET with the bearer runs too.
    const second = await sys.app.inject({ method: 'GET', url: '/v1/enrichment/process', headers: cron() });
    expect(second.json()).toEqual({ processed: 1, remaining: 0 });
    for (const j of jobs) expect((await getJson(sys.app, `/v1/enrichment/jobs/${j.id}`, token)).body.status).toBe('completed');
  });

  it('retries a failing job on a later run and completes a list job chunk by chunk', async () => {
    const flaky = await submit({ type: 'test_job', payload: { fail: 'once' } });
    expect((await processRun({ maxJobs: 1 })).json()).toMatchObject({ processed: 1 });
    expect((await getJson(sys.app, `/v1/enrichment/jobs/${flaky.id}`, token)).body.status).toBe('retrying');
    await new Promise((r) => setTimeout(r, 100));
    expect((await processRun({ timeout: 5000 }, '/api/enrichment/jobs/process')).json()).toMatchObject({ processed: 1 });
    expect((await getJson(sys.app, `/v1/enrichment/jobs/${flaky.id}`, token)).body.status).toBe('completed');

    const listId = await seedGeneratedList(sys.services.pool, tenantId, 120);
    const planId = await seedPlan(sys.services.pool, tenantId, LOCAL_STEPS);
    const list = await submit({ type: 'list_enrichment', payload: { listId, planId, chunkSize: 50 } });
    // The job's own task, then its three chunks (a window of them at a time).
    let runs = 0;
    let job = list;
    while (job.status !== 'completed' && runs++ < 10) {
      await processRun({ maxJobs: 10 });
      job = (await getJson(sys.app, `/v1/enrichment/jobs/${list.id}`, token)).body;
    }
    expect(job.status).toBe('completed');
    expect(job.progress).toEqual({ total: 120, processed: 120, succeeded: 120, failed: 0 });
  });

  it('answers 401 to a wrong secret, 400 to a bad body, health without a bearer, and 404 when CRON_SECRET is unset', async () => {
    expect((await sys.app.inject({ method: 'POST', url: '/v1/enrichment/process', headers: cron('wrong'), payload: '{}' })).statusCode).toBe(401);
    expect((await sys.app.inject({ method: 'POST', url: '/v1/enrichment/process', headers: { 'content-type': 'application/json' }, payload: '{}' })).statusCode).toBe(401);
    const bad = await processRun({ maxJobs: 0 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].path).toBe('maxJobs');
    const health = await sys.app.inject({ method: 'GET', url: '/v1/enrichment/process' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', queue: { wait: expect.any(Number) } });
    expect((await off.app.inject({ method: 'GET', url: '/v1/enrichment/process' })).statusCode).toBe(404);
    expect((await off.app.inject({ method: 'POST', url: '/v1/enrichment/process', headers: cron(), payload: '{}' })).statusCode).toBe(404);
  });

  it('lets one run at a time', async () => {
    for (let i = 0; i < 3; i++) await submit({ type: 'test_job', payload: { sleepMs: 300 } });
    const [a, b] = await Promise.all([processRun({ maxJobs: 3 }), new Promise((r) => setTimeout(r, 100)).then(() => processRun({ maxJobs: 3 }))]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
  });
});
