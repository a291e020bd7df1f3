// A list's whole trip as a user makes it: CSV upload, a plan, a list_enrichment job, the
// entries with their enrichment, and an export in CSV and JSONL that parses back.
import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { getJson, postJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

let sys: TestSystem;
let token: string;

const N = 300;
const header = ['External_ID', 'First_Name', 'last_name', 'email', 'phone', 'company', 'contact_first_name', 'contact_last_name', 'Notes'];
function csvRow(i: number): string[] {
  return [
    `x${i}`, i % 2 ? 'Robert' : 'María', 'Smith', i % 4 ? `r${i}@acme.io` : 'sales@acme.io', `+1 415 555 ${String(1000 + i).slice(-4)}`,
    'acme.io', i % 3 ? 'Bob' : 'Jane', 'Smith', i % 10 === 0 ? '=HYPERLINK("http://x")' : `note, "quoted" ${i}`,
  ];
}
const cell = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
const CSV = [header, ...Array.from({ length: N }, (_, i) => csvRow(i))].map((r) => r.map(cell).join(',')).join('\n');

async function finished(id: string): Promise<Job> {
  return waitFor(async () => {
    const job = (await getJson(sys.app, `/v1/enrichment/jobs/${id}`, token)).body;
    return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : null;
  }, 30_000);
}

beforeAll(async () => {
  sys = await startTestSystem({ workers: 1 });
  token = await sys.token({ tenantId: randomUUID() });
});
afterAll(async () => {
  await sys?.close();
});

describe('a list from upload to export', () => {
  it('uploads, enriches and exports every row with its step columns', async () => {
    const up = await sys.app.inject({ method: 'POST', url: '/v1/lists?name=roundtrip', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, payload: CSV });
    expect(up.statusCode, up.body).toBe(201);
    const list = up.json<{ id: string; entryCount: number; columns: { name: string; mappedTo: string | null }[] }>();
    expect(list.entryCount).toBe(N);
    expect(list.columns.find((c) => c.name === 'First_Name')?.mappedTo).toBe('first_name');
    expect(list.columns.find((c) => c.name === 'Notes')?.mappedTo).toBeNull();

    const plan = await postJson<{ id: string }>(sys.app, '/v1/enrichment/plans', token, {
      name: 'all local steps',
      steps: [{ type: 'rpc_score' }, { type: 'email_validation' }, { type: 'phone_normalization', options: { defaultCountry: 'US' } }, { type: 'company_domain' }],
    });
    expect(plan.status).toBe(201);
    const job = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'list_enrichment', payload: { listId: list.id, planId: plan.body.id, chunkSize: 40 } });
    expect(job.status).toBe(202);
    const done = await finished(job.body.id);
    expect(done.status).toBe('completed');
    expect(done.progress).toEqual({ total: N, processed: N, succeeded: N, failed: 0 });
    const summary = done.result as { steps: Record<string, Record<string, number>> };
    expect(summary.steps.email_validation).toEqual({ valid: N - N / 4, risky: N / 4 });

    const page = await getJson<{ items: { id: string; data: Record<string, string>; enrichment: Record<string, { class?: string }> }[]; nextCursor: string | null }>(
      sys.app, `/v1/lists/${list.id}/entries?limit=10`, token);
    expect(page.body.items).toHaveLength(10);
    expect(page.body.items[0]!.data.First_Name).toBe('María');
    expect(Object.keys(page.body.items[0]!.enrichment).sort()).toEqual(['company_domain', 'email_validation', 'phone_normalization', 'rpc_score']);
    expect(page.body.items[1]!.enrichment.rpc_score!.class).not.toBe('wpc'); // Robert Smith vs Bob Smith

    // CSV export: every uploaded column, then the step columns, with formula cells escaped.
    const csvExport = await postJson<{ id: string }>(sys.app, '/v1/exports', token, { listId: list.id, format: 'csv' });
    expect(csvExport.status).toBe(202);
    expect((await finished(csvExport.body.id)).status).toBe('completed');
    const download = await sys.app.inject({ method: 'GET', url: `/v1/exports/${csvExport.body.id}/download`, headers: { authorization: `Bearer ${token}` } });
    expect(download.statusCode).toBe(200);
    const rows = parse(download.body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(N);
    const columns = Object.keys(rows[0]!);
    expect(columns.slice(0, header.length)).toEqual(header);
    for (const c of ['rpc_score.class', 'rpc_score.score', 'email_validation.status', 'phone_normalization.e164', 'company_domain.domain']) expect(columns).toContain(c);
    expect(rows[0]!.Notes).toBe('\'=HYPERLINK("http://x")');
    expect(rows[1]!.Notes).toBe('note, "quoted" 1');
    expect(rows[1]!['company_domain.domain']).toBe('acme.io');
    expect(rows[0]!['email_validation.status']).toBe('risky');
    rows.forEach((r, i) => expect(r.External_ID).toBe(`x${i}`));
    expect(rows[1]!['rpc_score.class']).toBe(page.body.items[1]!.enrichment.rpc_score!.class);

    // JSONL export: one object per entry, data as uploaded.
    const jsonl = await postJson<{ id: string }>(sys.app, '/v1/exports', token, { listId: list.id, format: 'jsonl' });
    expect((await finished(jsonl.body.id)).status).toBe('completed');
    const lines = (await sys.app.inject({ method: 'GET', url: `/v1/exports/${jsonl.body.id}/download`, headers: { authorization: `Bearer ${token}` } })).body.trim().split('\n');
    expect(lines).toHaveLength(N);
    const first = JSON.parse(lines[0]!) as { data: Record<string, string>; enrichment: Record<string, unknown> };
    expect(first.data.Notes).toBe('=HYPERLINK("http://x")');
    expect(Object.keys(first.enrichment).sort()).toEqual(['company_domain', 'email_validation', 'phone_normalization', 'rpc_score']);
  });
});
