// list_enrichment end to end against real PostgreSQL and Redis: chunks, counters, results,
// entry errors and the error threshold, cancel mid-run, retry of failed entries, fairness.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StepRunner, enrichEntry, runLocalStep } from '../../src/enrich/plan.js';
import type { Job } from '../../src/jobs/job.js';
import { getJson, jobEvents, postJson } from '../helpers/api.js';
import { LOCAL_STEPS, seedGeneratedList, seedList, seedPlan } from '../helpers/lists.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

let sys: TestSystem;
let tenantId: string;
let token: string;

// Entries whose external_id is in `failing` make email_validation raise; `slowMs` slows every step.
const failing = new Set<string>();
let slowMs = 0;
const runStep: StepRunner = (step, entry) => {
  if (slowMs > 0) {
    const until = performance.now() + slowMs;
    while (performance.now() < until) { /* a step that takes time, as a provider would */ }
  }
  if (step.type === 'email_validation' && failing.has(String(entry.external_id))) throw new Error(`cannot validate ${String(entry.external_id)}`);
  return runLocalStep(step, entry);
};

const finished = (s: string) => ['completed', 'failed', 'cancelled'].includes(s);

async function submitList(listId: string, planId: string, chunkSize?: number): Promise<Job> {
  const res = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'list_enrichment', payload: { listId, planId, ...(chunkSize ? { chunkSize } : {}) } });
  expect(res.status).toBe(202);
  return res.body;
}

async function getJob(id: string): Promise<Job> {
  return (await getJson(sys.app, `/v1/enrichment/jobs/${id}`, token)).body;
}

async function waitFinished(id: string, timeoutMs = 60_000): Promise<Job> {
  return waitFor(async () => {
    const job = await getJob(id);
    return finished(job.status) ? job : null;
  }, timeoutMs, 100);
}

async function resultRows(jobId: string): Promise<{ entry_id: string; results: Record<string, unknown>; errors: Record<string, string> | null; updated_at: Date }[]> {
  const { rows } = await sys.services.pool.query('SELECT entry_id::text, results, errors, updated_at FROM entry_results r WHERE job_id = $1 ORDER BY r.entry_id', [jobId]);
  return rows;
}

function people(n: number, prefix = 'x'): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    external_id: `${prefix}${i}`,
    first_name: i % 3 === 0 ? 'Robert' : 'Maria',
    last_name: i % 2 === 0 ? 'Smith' : 'Garcia Lopez',
    email: i % 5 === 0 ? `info@mailinator.com` : `person${i}@acme.io`,
    phone: i % 7 === 0 ? 'not a phone' : `(415) 555-${String(1000 + (i % 9000)).padStart(4, '0')}`,
    contact_first_name: i % 3 === 0 ? 'Bob' : 'Mario',
    contact_last_name: i % 2 === 0 ? 'Smith' : 'Garcia',
    Notes: `row ${i}`,
  }));
}

beforeAll(async () => {
  sys = await startTestSystem({
    workers: 2,
    runStep,
    env: { MAX_CONCURRENT_JOBS: '4', LIST_CHUNK_WINDOW: '2', RETRY_BASE_DELAY: '50', RETRY_MAX_DELAY: '200' },
  });
  tenantId = randomUUID();
  token = await sys.token({ tenantId });
});
afterAll(async () => {
  await sys?.close();
});

describe('list_enrichment', () => {
  it('runs a 20,000-entry list to completed with exact counters and one result per entry', async () => {
    const entries = people(20_000);
    const listId = await seedList(sys.services.pool, tenantId, entries);
    const planId = await seedPlan(sys.services.pool, tenantId, LOCAL_STEPS);
    const job = await submitList(listId, planId, 500);
    const done = await waitFinished(job.id);
    expect(done.status).toBe('completed');
    expect(done.progress).toEqual({ total: 20_000, processed: 20_000, succeeded: 20_000, failed: 0 });
    const rows = await resultRows(job.id);
    expect(rows).toHaveLength(20_000);
    // Every result is what the step functions give for that entry, in entry order.
    rows.forEach((r, i) => expect(r.results).toEqual(JSON.parse(JSON.stringify(enrichEntry(LOCAL_STEPS, entries[i]!).results))));
    const summary = done.result as { entries: number; failed: number; steps: Record<string, Record<string, number>> };
    expect(summary.entries).toBe(20_000);
    expect(summary.failed).toBe(0);
    for (const step of LOCAL_STEPS) {
      const counts = summary.steps[step.type]!;
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(20_000);
    }
    expect(summary.steps.email_validation!.risky).toBe(4_000); // every fifth is a role address
    expect(summary.steps.phone_normalization!.invalid).toBe(Math.ceil(20_000 / 7));
    // Chunks: 40 of 500, all done; the job's history is pending, running, completed.
    const chunks = await sys.services.pool.query('SELECT count(*)::int AS n, count(*) FILTER (WHERE state = $2)::int AS done FROM list_job_chunks WHERE job_id = $1', [job.id, 'done']);
    expect(chunks.rows[0]).toEqual({ n: 40, done: 40 });
    expect((await jobEvents(sys, job.id)).map((e) => e.to_status)).toEqual(['pending', 'running', 'completed']);
  });

  it('completes an empty list at once', async () => {
    const listId = await seedList(sys.services.pool, tenantId, []);
    const planId = await seedPlan(sys.services.pool, tenantId, LOCAL_STEPS);
    const done = await waitFinished((await submitList(listId, planId)).id);
    expect(done.status).toBe('completed');
    expect(done.progress).toMatchObject({ total: 0, processed: 0 });
  });

  it('records entry errors without failing the job, and retries only the failed entries', async () => {
    const entries = people(1_000, 'e');
    for (let i = 3; i < 1_000; i += 10) failing.add(`e${i}`);
    const listId = await seedList(sys.services.pool, tenantId, entries);
    const planId = await seedPlan(sys.services.pool, tenantId, LOCAL_STEPS);
    const job = await submitList(listId, planId, 64);
    const done = await waitFinished(job.id);
    expect(done.status).toBe('completed');
    expect(done.progress).toEqual({ total: 1_000, processed: 1_000, succeeded: 900, failed: 100 });
    const summary = done.result as { steps: Record<string, Record<string, number>> };
    expect(summary.steps.email_validation!.error).toBe(100);
    const before = await resultRows(job.id);
    const failedRows = before.filter((r) => r.errors !== null);
    expect(failedRows).toHaveLength(100);
    expect(failedRows[0]!.errors).toEqual({ email_validation: 'cannot validate e3' });
    const history = await getJson<{ events: { from: string | null; to: string }[]; entryErrors: { entryId: string; step: string; message: string }[] }>(sys.app, `/v1/enrichment/jobs/${job.id}/history`, token);
    expect(history.status).toBe(200);
    expect(history.body.events.map((e) => e.to)).toEqual(['pending', 'running', 'completed']);
    expect(history.body.entryErrors).toHaveLength(100);
    expect(history.body.entryErrors[0]).toEqual({ entryId: failedRows[0]!.entry_id, step: 'email_validation', message: 'cannot validate e3' });
    // The other steps of a failed entry still ran.
    expect(Object.keys(failedRows[0]!.results).sort()).toEqual(['company_domain', 'phone_normalization', 'rpc_score']);

    // Mend the cause, then re-run only the failed entries.
    failing.clear();
    const retried = await postJson(sys.app, `/v1/enrichment/jobs/${job.id}/retry`, token, { scope: 'failed_entries' });
    expect(retried.status).toBe(202);
    expect(retried.body.status).toBe('pending');
    const again = await waitFinished(job.id);
    expect(again.status).toBe('completed');
    expect(again.progress).toEqual({ total: 1_000, processed: 1_000, succeeded: 1_000, failed: 0 });
    const after = await resultRows(job.id);
    expect(after).toHaveLength(1_000);
    expect(after.filter((r) => r.errors !== null)).toHaveLength(0);
    const failedIds = new Set(failedRows.map((r) => r.entry_id));
    after.forEach((r, i) => {
      const changed = r.updated_at.getTime() !== before[i]!.updated_at.getTime();
      expect(changed).toBe(failedIds.has(r.entry_id));
    });
    expect(after.find((r) => r.entry_id === failedRows[0]!.entry_id)!.results.email_validation).toMatchObject({ status: 'valid' });
    // Nothing failed now: a second retry of failed entries is refused.
    const none = await postJson(sys.app, `/v1/enrichment/jobs/${job.id}/retry`, token, { scope: 'failed_entries' });
    expect(none.status).toBe(409);
  });

  it('fails the job once entry errors pass the plan\'s errorThreshold', async () => {
    const entries = people(400, 't');
    for (let i = 0; i < 400; i += 2) failing.add(`t${i}`);
    const listId = await seedList(sys.services.pool, tenantId, entries);
    const planId = await seedPlan(sys.services.pool, tenantId, LOCAL_STEPS, 0.1);
    const done = await waitFinished((await submitList(listId, planId, 20)).id);
    failing.clear();
    expect(done.status).toBe('failed');
    expect(done.lastError).toMatchObject({ code: 'error_threshold' });
    expect(done.progress.failed / done.progress.total).toBeGreaterThan(0.1);
    expect(done.progress.processed).toBeLessThan(400); // it stopped early
  });

  it('stops a cancelled job at its next chunk and keeps what it wrote', async () => {
    slowMs = 0.05;
    try {
      const listId = await seedGeneratedList(sys.services.pool, tenantId, 20_000);
      const planId = await seedPlan(sys.services.pool, tenantId, LOCAL_STEPS);
      const job = await submitList(listId, planId, 50);
      await waitFor(async () => ((await getJob(job.id)).progress.processed >= 1_000 ? true : null), 30_000);
      const del = await sys.app.inject({ method: 'DELETE', url: `/v1/enrichment/jobs/${job.id}`, headers: { authorization: `Bearer ${token}` } });
      expect(del.statusCode).toBe(200);
      expect(del.json().status).toBe('cancelled');
      await new Promise((r) => setTimeout(r, 1_000));
      const stopped = await getJob(job.id);
      expect(stopped.status).toBe('cancelled');
      expect(stopped.progress.processed).toBeLessThan(20_000);
      // What it wrote stays, and matches its counters exactly.
      const { rows } = await sys.services.pool.query('SELECT count(*)::int AS n FROM entry_results WHERE job_id = $1', [job.id]);
      expect(rows[0].n).toBe(stopped.progress.processed);
      await new Promise((r) => setTimeout(r, 500));
      expect((await getJob(job.id)).progress.processed).toBe(stopped.progress.processed);
      const again = await sys.app.inject({ method: 'DELETE', url: `/v1/enrichment/jobs/${job.id}`, headers: { authorization: `Bearer ${token}` } });
      expect(again.statusCode).toBe(409);
    } finally {
      slowMs = 0;
    }
  });

  it('fails a running job whose plan was removed, at its next chunk', async () => {
    slowMs = 0.05;
    try {
      const listId = await seedGeneratedList(sys.services.pool, tenantId, 5_000);
      const planId = await seedPlan(sys.services.pool, tenantId, LOCAL_STEPS);
      const job = await submitList(listId, planId, 50);
      await waitFor(async () => ((await getJob(job.id)).progress.processed >= 200 ? true : null), 30_000);
      await sys.services.pool.query('DELETE FROM enrichment_plans WHERE id = $1', [planId]);
      const done = await waitFinished(job.id);
      expect(done.status).toBe('failed');
      expect(done.lastError).toMatchObject({ code: 'plan_not_found' });
      expect(done.progress.processed).toBeLessThan(5_000);
    } finally {
      slowMs = 0;
    }
  });

  it('finishes a 100-entry job submitted right after a 200,000-entry job first', async () => {
    const bigList = await seedGeneratedList(sys.services.pool, tenantId, 200_000);
    const smallList = await seedGeneratedList(sys.services.pool, tenantId, 100);
    const planId = await seedPlan(sys.services.pool, tenantId, LOCAL_STEPS);
    const big = await submitList(bigList, planId, 50);
    await waitFor(async () => ((await getJob(big.id)).status === 'running' ? true : null), 10_000);
    const small = await submitList(smallList, planId, 50);
    const smallDone = await waitFinished(small.id, 30_000);
    expect(smallDone.status).toBe('completed');
    expect(smallDone.progress.processed).toBe(100);
    const bigNow = await getJob(big.id);
    expect(bigNow.status).toBe('running');
    expect(bigNow.progress.processed).toBeLessThan(200_000);
    // Redis held only the giant's window, never its 4,000 chunks.
    const { rows } = await sys.services.pool.query("SELECT count(*)::int AS n FROM list_job_chunks WHERE job_id = $1 AND state = 'queued'", [big.id]);
    expect(rows[0].n).toBeLessThanOrEqual(2);
    const del = await sys.app.inject({ method: 'DELETE', url: `/v1/enrichment/jobs/${big.id}`, headers: { authorization: `Bearer ${token}` } });
    expect(del.statusCode).toBe(200);
  });

  it('answers 404 for another tenant\'s job and 409 for a retry that is not allowed', async () => {
    const listId = await seedList(sys.services.pool, tenantId, people(10, 'o'));
    const planId = await seedPlan(sys.services.pool, tenantId, LOCAL_STEPS);
    const job = await submitList(listId, planId);
    const done = await waitFinished(job.id);
    expect(done.status).toBe('completed');
    const other = await sys.token();
    const res = await postJson(sys.app, `/v1/enrichment/jobs/${job.id}/retry`, other, {});
    expect(res.status).toBe(404);
    const notAllowed = await postJson(sys.app, `/v1/enrichment/jobs/${job.id}/retry`, token, { scope: 'job' });
    expect(notAllowed.status).toBe(409);
    const badScope = await postJson(sys.app, `/v1/enrichment/jobs/${job.id}/retry`, token, { scope: 'everything' });
    expect(badScope.status).toBe(400);
  });
});
