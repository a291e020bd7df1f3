// Jobs over items in the payload (leads, emails, domains) run the same step code as list jobs.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrichEntry } from '../../src/enrich/plan.js';
import type { Job } from '../../src/jobs/job.js';
import { getJson, postJson } from '../helpers/api.js';
import { LOCAL_STEPS, seedList, seedPlan } from '../helpers/lists.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

let sys: TestSystem;
let tenantId: string;
let token: string;

async function run(body: unknown): Promise<Job> {
  const res = await postJson(sys.app, '/v1/enrichment/jobs', token, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return waitFor(async () => {
    const job = (await getJson(sys.app, `/v1/enrichment/jobs/${res.body.id}`, token)).body;
    return ['completed', 'failed'].includes(job.status) ? job : null;
  });
}

const lead = { first_name: 'Robert', last_name: 'Smith', email: 'bob@acme.io', phone: '(415) 555-0100', company: 'acme.io', contact_first_name: 'Bob', contact_last_name: 'Smith' };

beforeAll(async () => {
  sys = await startTestSystem();
  tenantId = randomUUID();
  token = await sys.token({ tenantId });
});
afterAll(async () => {
  await sys?.close();
});

describe('jobs over items', () => {
  it('single_lead_enrichment with steps gives what the step functions give', async () => {
    const job = await run({ type: 'single_lead_enrichment', payload: { lead, steps: LOCAL_STEPS } });
    expect(job.status).toBe('completed');
    expect(job.result).toEqual({ enrichment: JSON.parse(JSON.stringify(enrichEntry(LOCAL_STEPS, lead).results)), errors: null });
    expect(job.progress).toEqual({ total: 1, processed: 1, succeeded: 1, failed: 0 });
  });

  it('single_lead_enrichment with a planId, and the older enrichmentTypes form', async () => {
    const planId = await seedPlan(sys.services.pool, tenantId, [{ type: 'email_validation', options: {} }]);
    const job = await run({ type: 'single_lead_enrichment', payload: { lead, planId } });
    expect((job.result as { enrichment: Record<string, unknown> }).enrichment).toEqual({ email_validation: expect.objectContaining({ status: 'valid' }) });
    const older = await run({ type: 'single_lead_enrichment', payload: { leadId: 'crm-42', enrichmentTypes: ['email', 'phone', 'social'], inputData: lead } });
    expect(older.status).toBe('completed');
    expect(older.result).toMatchObject({
      leadId: 'crm-42',
      enrichment: {
        email_validation: { status: 'valid' },
        phone_normalization: { e164: '+14155550100', valid: expect.any(Boolean) },
        social: { skipped: 'provider_not_configured' },
      },
    });
  });

  it('refuses both planId and steps, neither, and a plan of another tenant', async () => {
    const planId = await seedPlan(sys.services.pool, tenantId, LOCAL_STEPS);
    const both = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'single_lead_enrichment', payload: { lead, planId, steps: LOCAL_STEPS } });
    expect(both.status).toBe(400);
    const neither = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'batch_lead_enrichment', payload: { leads: [lead] } });
    expect(neither.status).toBe(400);
    const foreign = await postJson(sys.app, '/v1/enrichment/jobs', await sys.token(), { type: 'single_lead_enrichment', payload: { lead, planId } });
    expect(foreign.status).toBe(422);
    const badStep = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'single_lead_enrichment', payload: { lead, steps: [{ type: 'rpc_score', options: { rpcThreshold: 500 } }] } });
    expect(badStep.status).toBe(400);
  });

  it('batch_lead_enrichment over inline leads, entry ids (results kept on the entries) and the older form', async () => {
    const inline = await run({ type: 'batch_lead_enrichment', payload: { leads: [lead, { email: 'info@mailinator.com' }], steps: LOCAL_STEPS } });
    expect(inline.progress).toEqual({ total: 2, processed: 2, succeeded: 2, failed: 0 });
    expect(inline.result).toMatchObject({ summary: { leads: 2, steps: { email_validation: { valid: 1, risky: 1 } } } });

    const listId = await seedList(sys.services.pool, tenantId, [lead, { email: 'x@acme.io' }]);
    const ids = (await sys.services.pool.query<{ id: string }>('SELECT id::text FROM list_entries WHERE list_id = $1 ORDER BY id', [listId])).rows.map((r) => r.id);
    const byId = await run({ type: 'batch_lead_enrichment', payload: { leadIds: [...ids, '999999999'], steps: [{ type: 'email_validation' }] } });
    expect(byId.progress).toEqual({ total: 3, processed: 3, succeeded: 2, failed: 1 });
    const stored = await sys.services.pool.query('SELECT entry_id::text, results FROM entry_results r WHERE job_id = $1 ORDER BY r.entry_id', [byId.id]);
    expect(stored.rows.map((r) => r.entry_id)).toEqual(ids);
    expect(stored.rows[1].results.email_validation.email).toBe('x@acme.io');

    const older = await run({ type: 'batch_lead_enrichment', payload: { leadIds: ['a', 'b'], enrichmentTypes: ['company'], inputData: { a: { domain: 'https://www.example.co.uk/x' } } } });
    expect(older.result).toMatchObject({ items: [{ leadId: 'a', enrichment: { company_domain: { domain: 'example.co.uk' } } }, { leadId: 'b', enrichment: { company_domain: { skipped: 'missing_input' } } }] });
  });

  it('email_validation and company_data_update count their items', async () => {
    const emails = await run({ type: 'email_validation', payload: { emails: ['ann@acme.io', 'not-an-email', 'x@mailinator.com', ''] } });
    expect(emails.progress).toEqual({ total: 4, processed: 4, succeeded: 4, failed: 0 });
    expect(emails.result).toMatchObject({ counts: { valid: 1, invalid: 2, risky: 1 } });
    const domains = await run({ type: 'company_data_update', payload: { domains: ['https://shop.acme.co.uk/about', 'gmail.com', 'not a domain'] } });
    expect(domains.result).toMatchObject({
      items: [{ domain: 'acme.co.uk', freeMail: false }, { domain: 'gmail.com', freeMail: true }, { domain: null }],
      counts: { found: 2, notFound: 1 },
    });
  });
});
