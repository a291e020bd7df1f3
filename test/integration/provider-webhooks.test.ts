// Incoming provider webhooks: signatures, stale timestamps and replays refused; a good one
// accepted; and Clearbit's queued lookups (202, answer by webhook) complete their entries.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import type { ProviderStepResult } from '../../src/enrich/steps/provider-step.js';
import { providerWebhookHeaders, signProviderWebhook } from '../../src/providers/webhook-signature.js';
import { getJson, postJson } from '../helpers/api.js';
import { seedList, seedPlan } from '../helpers/lists.js';
import { type ProviderTestSystem, startProviderSystem } from '../helpers/provider-system.js';
import { waitFor } from '../helpers/system.js';

const SECRET = 'clearbit-webhook-secret';
let sys: ProviderTestSystem;

beforeAll(async () => {
  sys = await startProviderSystem({
    providers: ['clearbit'],
    sim: { providers: { clearbit: { hitRate: 1 } } },
    providerEnv: { CLEARBIT_WEBHOOK_SECRET: SECRET, RATE_LIMIT_PER_SECOND: '5000', RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_PER_HOUR: '1000000' },
    listen: true,
  });
  const port = (sys.app.server.address() as AddressInfo).port;
  sys.sim.update({ clearbit: { queueRate: 1, webhookUrl: `http://127.0.0.1:${port}/v1/webhooks/providers/clearbit`, webhookSecret: SECRET, webhookDelayMs: 200 } });
});
afterAll(async () => {
  await sys?.close();
});

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await sys.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: body });
  return { status: res.statusCode, body: res.json() as { error?: { code: string }; matched?: boolean } };
}

describe('provider webhooks', () => {
  for (const url of ['/v1/webhooks/providers/clearbit', '/v1/enrichment/webhook?provider=clearbit']) {
    it(`refuses bad signatures, stale timestamps and replays, and accepts a good one (${url})`, async () => {
      const id = randomUUID();
      const body = JSON.stringify({ id: `req-${id}`, status: 404, type: 'company', body: null });
      const good = providerWebhookHeaders(SECRET, id, body);

      expect((await post(url, body, {})).status).toBe(401);
      expect((await post(url, body, providerWebhookHeaders('another-secret', id, body))).status).toBe(401);
      // The body changed after signing.
      expect((await post(url, body.replace('404', '200'), good)).status).toBe(401);
      const ts = Math.floor(Date.now() / 1000) - 6 * 60;
      const stale = await post(url, body, { 'x-webhook-id': randomUUID(), 'x-webhook-timestamp': String(ts), 'x-webhook-signature': signProviderWebhook(SECRET, ts, body) });
      expect(stale.status).toBe(400);

      const ok = await post(url, body, good);
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ received: true, matched: false });
      const replay = await post(url, body, good);
      expect(replay.status).toBe(400);
      expect(JSON.stringify(replay.body)).toContain('x-webhook-id');
    });
  }

  it('refuses a provider without a webhook secret or parser', async () => {
    const body = '{}';
    const res = await post('/v1/webhooks/providers/hunter', body, providerWebhookHeaders(SECRET, randomUUID(), body));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('provider');
  });

  it('completes queued Clearbit lookups when their answers arrive, paying as the simulator counts', async () => {
    const tenantId = randomUUID();
    const token = await sys.token({ tenantId });
    const entries = Array.from({ length: 6 }, (_, i) => ({ company: `Globex ${i}`, domain: `globex${i}.com` }));
    const listId = await seedList(sys.services.pool, tenantId, entries);
    const planId = await seedPlan(sys.services.pool, tenantId, [{ type: 'provider', options: { providers: ['clearbit'], want: 'company' } }]);
    const res = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'list_enrichment', payload: { listId, planId, chunkSize: 3 } });
    const job = await waitFor(async () => {
      const j = (await getJson<Job>(sys.app, `/v1/enrichment/jobs/${res.body.id}`, token)).body;
      return ['completed', 'failed'].includes(j.status) ? j : null;
    }, 30_000);
    expect(job.status).toBe('completed');
    expect(job.attempts).toBe(1);
    const stats = sys.sim.stats();
    expect(stats.providers.clearbit.outcomes.queued).toBe(6);
    expect(stats.webhooks.delivered).toBe(6);
    // Each lookup was asked once: the answer came by webhook, not by asking again.
    expect(stats.providers.clearbit.calls).toBe(6);
    const { rows } = await sys.services.pool.query<{ results: { provider: ProviderStepResult } }>('SELECT results FROM entry_results WHERE job_id = $1 ORDER BY entry_id', [job.id]);
    expect(rows.map((r) => r.results.provider.value)).toEqual(entries.map((e) => e.domain));
    expect(rows.every((r) => r.results.provider.answeredBy === 'clearbit')).toBe(true);
    const usage = await getJson<{ items: { provider: string; calls: number; credits: number }[] }>(sys.app, '/v1/usage', token);
    expect(usage.body.items).toEqual([{ provider: 'clearbit', calls: 6, cacheHits: 6, credits: stats.providers.clearbit.credits }]);
  });
});
