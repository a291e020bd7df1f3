// A lead job whose provider lookup must wait longer than a second (Retry-After 3 s) gives its
// worker slot back: it returns to pending with its attempt given back, another job runs in
// the slot meanwhile, and the lead job completes after the wait with one attempt spent.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { getJson, postJson } from '../helpers/api.js';
import { type ProviderTestSystem, people, startProviderSystem } from '../helpers/provider-system.js';
import { waitFor } from '../helpers/system.js';

let sys: ProviderTestSystem;

beforeAll(async () => {
  sys = await startProviderSystem({
    providers: ['pdl'],
    // The first call is answered 429 with Retry-After: 3; every later one normally.
    sim: { providers: { pdl: { hitRate: 1, latencyMs: 5 } }, storms: [{ provider: 'pdl', afterCalls: 0, calls: 1, retryAfterSeconds: 3 }] },
    providerEnv: { RATE_LIMIT_PER_SECOND: '5000', RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_PER_HOUR: '1000000' },
    // One slot: the second job can only run if the waiting one gave it back.
    env: { MAX_CONCURRENT_JOBS: '1' },
  });
});
afterAll(async () => {
  await sys?.close();
});

interface EventRow {
  to_status: string;
  attempt: number;
  message: string | null;
  at: Date;
}

describe('a lead job waiting on a provider', () => {
  it('gives its slot back without spending an attempt, and completes after the wait', async () => {
    const token = await sys.token({ tenantId: randomUUID() });
    const lead = people(1, 'defer')[0]!;
    const made = await postJson(sys.app, '/v1/enrichment/jobs', token, {
      type: 'single_lead_enrichment',
      payload: { lead, steps: [{ type: 'provider', options: { providers: ['pdl'], want: 'email' } }] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(202);
    const events = async () =>
      (await sys.services.pool.query<EventRow>('SELECT to_status, attempt, message, at FROM enrichment_job_events WHERE job_id = $1 ORDER BY id', [made.body.id])).rows;
    // Deferred: back to pending, the attempt given back.
    const deferred = await waitFor(async () => (await events()).find((e) => e.to_status === 'pending' && e.message?.startsWith('deferred')) ?? null, 15_000);
    expect(deferred.attempt).toBe(0);
    expect(deferred.message).toMatch(/pdl .*throttled|rate_limit/);

    // The one slot is free: a test_job runs and completes while the lead job waits.
    const other = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: {} });
    const otherDone = await waitFor(async () => {
      const j = (await getJson<Job>(sys.app, `/v1/enrichment/jobs/${other.body.id}`, token)).body;
      return j.status === 'completed' ? j : null;
    }, 10_000);

    const job = await waitFor(async () => {
      const j = (await getJson<Job>(sys.app, `/v1/enrichment/jobs/${made.body.id}`, token)).body;
      return ['completed', 'failed'].includes(j.status) ? j : null;
    }, 20_000);
    expect(job.status, JSON.stringify(job.lastError)).toBe('completed');
    expect(job.attempts).toBe(1);
    const history = await events();
    expect(history.map((e) => e.to_status)).toEqual(['pending', 'running', 'pending', 'running', 'completed']);
    const secondStart = history[3]!.at.getTime();
    expect(new Date(otherDone.completedAt!).getTime()).toBeLessThan(secondStart);
    // It waited out the Retry-After before asking again.
    expect(secondStart - deferred.at.getTime()).toBeGreaterThanOrEqual(2_500);
    const stats = sys.sim.stats().providers.pdl;
    expect(stats.outcomes.throttled).toBe(1);
    expect(stats.outcomes.hit).toBe(1);
  });
});
