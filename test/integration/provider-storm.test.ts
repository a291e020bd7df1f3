// A 429 storm at the provider is ridden out: chunks wait (re-queued, holding no worker slot)
// without spending the job's attempts or the chunks' tries, and no lookup is lost or paid twice.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import type { ProviderStepResult } from '../../src/enrich/steps/provider-step.js';
import { getJson, postJson } from '../helpers/api.js';
import { seedList, seedPlan } from '../helpers/lists.js';
import { type ProviderTestSystem, people, startProviderSystem } from '../helpers/provider-system.js';
import { waitFor } from '../helpers/system.js';

let sys: ProviderTestSystem;

beforeAll(async () => {
  sys = await startProviderSystem({
    providers: ['pdl'],
    // After 5 calls, the next 40 calls are answered 429 with Retry-After: 1.
    sim: { providers: { pdl: { hitRate: 1, latencyMs: 5 } }, storms: [{ provider: 'pdl', afterCalls: 5, calls: 40, retryAfterSeconds: 1 }] },
    providerEnv: { RATE_LIMIT_PER_SECOND: '5000', RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_PER_HOUR: '1000000' },
    // Two tries per chunk: the storm's waits must not count as tries.
    env: { CHUNK_ATTEMPTS: '2' },
  });
});
afterAll(async () => {
  await sys?.close();
});

describe('a 429 storm', () => {
  it('is ridden out with no lost lookups, no lookup paid twice and no attempt spent', async () => {
    const tenantId = randomUUID();
    const token = await sys.token({ tenantId });
    const listId = await seedList(sys.services.pool, tenantId, people(40, 'storm'));
    const planId = await seedPlan(sys.services.pool, tenantId, [{ type: 'rpc_score', options: {} }, { type: 'provider', options: { providers: ['pdl'], want: 'email' } }]);
    const res = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'list_enrichment', payload: { listId, planId, chunkSize: 10 } });
    expect(res.status).toBe(202);
    const job = await waitFor(async () => {
      const j = (await getJson<Job>(sys.app, `/v1/enrichment/jobs/${res.body.id}`, token)).body;
      return ['completed', 'failed'].includes(j.status) ? j : null;
    }, 60_000);
    expect(job.status, JSON.stringify(job.lastError)).toBe('completed');
    expect(job.attempts).toBe(1);
    expect(job.progress).toMatchObject({ total: 40, processed: 40, failed: 0 });

    const stats = sys.sim.stats().providers.pdl;
    expect(stats.outcomes.throttled).toBeGreaterThan(0);
    // Every lookup answered exactly once: 40 answered calls, the rest were throttled.
    expect(stats.outcomes.hit + stats.outcomes.miss).toBe(40);
    const { rows } = await sys.services.pool.query<{ results: { provider: ProviderStepResult; rpc_score: unknown } }>('SELECT results FROM entry_results WHERE job_id = $1 ORDER BY entry_id', [job.id]);
    expect(rows).toHaveLength(40);
    for (const r of rows) {
      expect(r.results.rpc_score).toBeDefined();
      expect(['hit', 'miss']).toContain(r.results.provider.attempts.at(-1)!.outcome);
    }
    // No attempt of the job was spent on the storm: its history has one start.
    const { rows: events } = await sys.services.pool.query<{ to_status: string }>('SELECT to_status FROM enrichment_job_events WHERE job_id = $1 ORDER BY id', [job.id]);
    expect(events.map((e) => e.to_status).filter((s) => s === 'running')).toHaveLength(1);
    const usage = await getJson<{ items: { provider: string; calls: number; credits: number }[] }>(sys.app, '/v1/usage', token);
    expect(usage.body.items).toEqual([expect.objectContaining({ provider: 'pdl', calls: stats.calls, credits: stats.credits })]);
  });
});
