// The provider step against the simulator: plan validation, a waterfall past a provider that is
// down, one paid call per lookup however many jobs ask (also at once), credits in /v1/usage, and
// the job types that use providers.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import type { ProviderStepResult } from '../../src/enrich/steps/provider-step.js';
import { getJson, postJson } from '../helpers/api.js';
import { seedList, seedPlan } from '../helpers/lists.js';
import { type ProviderTestSystem, people, startProviderSystem } from '../helpers/provider-system.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

let sys: ProviderTestSystem;

const FAST_LIMITS = { RATE_LIMIT_PER_SECOND: '5000', RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_PER_HOUR: '1000000' };

async function submit(token: string, body: unknown): Promise<string> {
  const res = await postJson(sys.app, '/v1/enrichment/jobs', token, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id;
}

async function finished(s: TestSystem, token: string, id: string, timeoutMs = 30_000): Promise<Job> {
  return waitFor(async () => {
    const job = (await getJson(s.app, `/v1/enrichment/jobs/${id}`, token)).body;
    return ['completed', 'failed'].includes(job.status) ? job : null;
  }, timeoutMs);
}

async function providerResults(jobId: string): Promise<ProviderStepResult[]> {
  const { rows } = await sys.services.pool.query<{ results: { provider: ProviderStepResult } }>('SELECT results FROM entry_results WHERE job_id = $1 ORDER BY entry_id', [jobId]);
  return rows.map((r) => r.results.provider);
}

beforeAll(async () => {
  sys = await startProviderSystem({
    providers: ['hunter', 'pdl'],
    // Hunter is down (every call a 500); PDL knows everyone, a little slowly so lookups overlap.
    sim: { providers: { hunter: { errorRate: 1 }, pdl: { hitRate: 1, latencyMs: 20 } } },
    providerEnv: FAST_LIMITS,
  });
});
afterAll(async () => {
  await sys?.close();
});

describe('the provider step', () => {
  it('refuses an unknown provider, naming it by path', async () => {
    const token = await sys.token();
    const res = await postJson(sys.app, '/v1/enrichment/plans', token, { name: 'p', steps: [{ type: 'provider', options: { providers: ['pdl', 'nosuch'], want: 'email' } }] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'validation_error', details: [expect.objectContaining({ path: 'steps.0.options.providers.1' })] } });
    const ok = await postJson(sys.app, '/v1/enrichment/plans', token, { name: 'p', steps: [{ type: 'rpc_score' }, { type: 'provider', options: { providers: ['hunter', 'pdl'], want: 'email' } }] });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it('falls through a provider that is down to the next, recording every attempt', async () => {
    const tenantId = randomUUID();
    const token = await sys.token({ tenantId });
    const listId = await seedList(sys.services.pool, tenantId, people(12, 'down'));
    const planId = await seedPlan(sys.services.pool, tenantId, [{ type: 'provider', options: { providers: ['hunter', 'pdl'], want: 'email' } }]);
    const job = await finished(sys, token, await submit(token, { type: 'list_enrichment', payload: { listId, planId, chunkSize: 5 } }));
    expect(job.status).toBe('completed');
    expect(job.attempts).toBe(1);
    const results = await providerResults(job.id);
    expect(results).toHaveLength(12);
    // PDL knows everyone but answers a weak match (likelihood under 6) as a miss.
    const answered = results.filter((r) => r.answeredBy === 'pdl');
    expect(answered.length).toBeGreaterThan(8);
    for (const r of results) {
      expect(r.attempts.map((a) => a.provider)).toEqual(['hunter', 'pdl']);
      expect(r.attempts[0]).toMatchObject({ outcome: 'error', credits: 0 });
      expect(r.attempts[1]!.outcome).toBe(r.answeredBy === 'pdl' ? 'hit' : 'miss');
      if (r.answeredBy === 'pdl') expect(r.value).toMatch(/@/);
    }
    expect(sys.sim.stats().providers.hunter.outcomes.error).toBeGreaterThanOrEqual(12);
    expect((job.result as { steps: Record<string, Record<string, number>> }).steps.provider).toEqual({ answered: answered.length, ...(answered.length < 12 ? { not_found: 12 - answered.length } : {}) });
  });

  it('pays once for the same entry in two jobs running at once and in a later one; credits in /v1/usage are the simulator\'s', async () => {
    const tenantId = randomUUID();
    const token = await sys.token({ tenantId });
    const entries = people(30, 'once');
    const listId = await seedList(sys.services.pool, tenantId, entries);
    const planId = await seedPlan(sys.services.pool, tenantId, [{ type: 'provider', options: { providers: ['pdl'], want: 'email' } }]);
    const before = sys.sim.stats().providers.pdl;
    const [a, b] = await Promise.all([
      submit(token, { type: 'list_enrichment', payload: { listId, planId, chunkSize: 5 } }),
      submit(token, { type: 'list_enrichment', payload: { listId, planId, chunkSize: 5 } }),
    ]);
    const jobs = await Promise.all([finished(sys, token, a), finished(sys, token, b)]);
    expect(jobs.map((j) => j.status)).toEqual(['completed', 'completed']);
    // They ran at once: each started before the other ended.
    const [ja, jb] = jobs as [Job, Job];
    expect(Date.parse(ja.startedAt!)).toBeLessThan(Date.parse(jb.completedAt!));
    expect(Date.parse(jb.startedAt!)).toBeLessThan(Date.parse(ja.completedAt!));
    const during = sys.sim.stats().providers.pdl;
    expect(during.calls - before.calls).toBe(30);
    // Both jobs have every answer; between them each entry was asked once.
    const [ra, rb] = [await providerResults(a), await providerResults(b)];
    expect(ra.map((r) => r.value)).toEqual(rb.map((r) => r.value));
    expect(ra.filter((r) => r.answeredBy === 'pdl').length).toBeGreaterThan(20);
    const cachedAnswers = [...ra, ...rb].filter((r) => r.attempts[0]!.cached).length;
    expect(cachedAnswers).toBe(30);

    // A later job: every answer from the cache, no call, no credit.
    const later = await finished(sys, token, await submit(token, { type: 'list_enrichment', payload: { listId, planId } }));
    expect(later.status).toBe('completed');
    expect(sys.sim.stats().providers.pdl.calls).toBe(during.calls);
    expect((await providerResults(later.id)).every((r) => r.attempts[0]!.cached === true && r.attempts[0]!.credits === 0)).toBe(true);

    const usage = await getJson<{ items: { provider: string; calls: number; cacheHits: number; credits: number }[] }>(sys.app, '/v1/usage', token);
    expect(usage.status).toBe(200);
    expect(usage.body.items).toEqual([{ provider: 'pdl', calls: 30, cacheHits: 60, credits: during.credits - before.credits }]);
    expect(during.credits - before.credits).toBeGreaterThan(0);
    const window = await getJson<{ items: unknown[] }>(sys.app, `/v1/usage?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, token);
    expect(window.body.items).toEqual([]);
    const byDate = await getJson<{ items: unknown[] }>(sys.app, '/v1/usage?from=2020-01-01&to=2999-01-01', token);
    expect(byDate.body.items).toEqual(usage.body.items);
    expect((await getJson(sys.app, '/v1/usage?from=yesterday', token)).status).toBe(400);
    expect((await getJson(sys.app, '/v1/usage', 'not-a-token')).status).toBe(401);

    // Another tenant (PROVIDER_CACHE_SCOPE=tenant) reuses nothing it did not pay for, and sees only its own usage.
    const other = randomUUID();
    const otherToken = await sys.token({ tenantId: other });
    const otherList = await seedList(sys.services.pool, other, entries.slice(0, 5));
    const otherPlan = await seedPlan(sys.services.pool, other, [{ type: 'provider', options: { providers: ['pdl'], want: 'email' } }]);
    const otherJob = await finished(sys, otherToken, await submit(otherToken, { type: 'list_enrichment', payload: { listId: otherList, planId: otherPlan } }));
    expect(otherJob.status).toBe('completed');
    expect(sys.sim.stats().providers.pdl.calls).toBe(during.calls + 5);
    const otherUsage = await getJson<{ items: { provider: string; calls: number }[] }>(sys.app, '/v1/usage', otherToken);
    expect(otherUsage.body.items).toMatchObject([{ provider: 'pdl', calls: 5, cacheHits: 0 }]);
  });

  it('stops asking once a job reaches its budget, and says so', async () => {
    const tenantId = randomUUID();
    const token = await sys.token({ tenantId });
    const listId = await seedList(sys.services.pool, tenantId, people(60, 'budget'));
    const planId = await seedPlan(sys.services.pool, tenantId, [{ type: 'provider', options: { providers: ['pdl'], want: 'email', maxCredits: 3 } }]);
    const before = sys.sim.stats().providers.pdl.calls;
    // Lookups in flight when the budget is reached still land: one chunk overshoots by at most its 16.
    const job = await finished(sys, token, await submit(token, { type: 'list_enrichment', payload: { listId, planId, chunkSize: 60 } }));
    expect(job.status).toBe('completed');
    const steps = (job.result as { steps: Record<string, Record<string, number>> }).steps.provider!;
    expect(steps.budget_exhausted).toBeGreaterThan(0);
    expect(sys.sim.stats().providers.pdl.calls - before).toBeLessThanOrEqual(3 + 16);
  });

  it('serves the lead job types, company_data_update and social_profile_discovery through providers', async () => {
    const token = await sys.token();
    const lead = { first_name: 'Maria', last_name: 'Garcia', domain: 'initech.com' };
    const single = await finished(sys, token, await submit(token, { type: 'single_lead_enrichment', payload: { lead, steps: [{ type: 'provider', options: { providers: ['hunter', 'pdl'], want: 'email' } }] } }));
    expect(single.status).toBe('completed');
    expect(single.result).toMatchObject({ enrichment: { provider: { answeredBy: 'pdl' } } });
    const older = await finished(sys, token, await submit(token, { type: 'single_lead_enrichment', payload: { leadId: 'crm-1', enrichmentTypes: ['social', 'email'], inputData: lead } }));
    expect(older.result).toMatchObject({ leadId: 'crm-1', enrichment: { social: { answeredBy: 'pdl' }, email: { answeredBy: 'pdl' } } });
    const social = await finished(sys, token, await submit(token, { type: 'social_profile_discovery', payload: { lead } }));
    expect(social.status).toBe('completed');
    expect(social.result).toMatchObject({ answeredBy: 'pdl', value: expect.stringContaining('linkedin') });
    const none = await finished(sys, token, await submit(token, { type: 'social_profile_discovery', payload: { lead, providers: ['hunter'] } }));
    expect(none.status).toBe('failed');
    expect(none.lastError).toMatchObject({ code: 'provider_not_configured' });
    const company = await finished(sys, token, await submit(token, { type: 'company_data_update', payload: { domains: ['https://www.initech.com/about'] } }));
    expect(company.status).toBe('completed');
    expect(company.result).toMatchObject({ items: [{ input: 'https://www.initech.com/about', domain: 'initech.com', provider: expect.any(Object) }] });
  });
});

describe('without providers', () => {
  it('social_profile_discovery fails with provider_not_configured', async () => {
    const plain = await startTestSystem();
    try {
      const token = await plain.token();
      const res = await postJson(plain.app, '/v1/enrichment/jobs', token, { type: 'social_profile_discovery', payload: { lead: { first_name: 'A', last_name: 'B', email: 'a@b.io' } } });
      expect(res.status).toBe(202);
      const job = await finished(plain, token, res.body.id);
      expect(job.status).toBe('failed');
      expect(job.attempts).toBe(1);
      expect(job.lastError).toMatchObject({ code: 'provider_not_configured' });
    } finally {
      await plain.close();
    }
  });
});
