// The audit trail: every state-changing call of a tenant token is recorded (sub, tenant,
// action, resource id, status, request id, time: nothing else, no body or secret), listed at
// GET /v1/audit for any token of the tenant (CONTRACT.md does not mark it admin), newest first with a cursor, and never across tenants.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/api/token.js';
import { auditActionOf } from '../../src/audit/actions.js';
import { getJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';
import { TEST_JWT_SECRET } from '../helpers/urls.js';

interface AuditRow {
  id: string;
  tenant_id: string;
  at: Date;
  sub: string | null;
  action: string;
  resource: string;
  resource_id: string | null;
  status: number;
  request_id: string;
}
interface AuditItem {
  at: string;
  sub: string | null;
  action: string;
  resource: string;
  resourceId: string | null;
  status: number;
  requestId: string;
}
interface AuditPage {
  items: AuditItem[];
  nextCursor: string | null;
}

let sys: TestSystem;
const tenantA = randomUUID();
const tenantB = randomUUID();
let admin: string;
let member: string;
let adminB: string;
const PERSON = 'Audit.Person@example.com';
const secrets: string[] = [];
// what each call should leave in the trail, in order
const expected: { action: string; resource: string; resourceId: string | null; status: number; requestId: string }[] = [];

async function call(method: string, url: string, token: string, body?: unknown, expect?: { action: string; resource: string; id?: string | null }): Promise<{ status: number; body: Record<string, unknown> }> {
  const requestId = `req-${randomUUID()}`;
  const res = await sys.app.inject({
    method: method as 'POST',
    url,
    headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  const parsed = res.body === '' ? {} : (res.json() as Record<string, unknown>);
  if (expect) {
    const resourceId = expect.id === undefined ? (typeof parsed.id === 'string' ? parsed.id : null) : expect.id;
    expected.push({ action: expect.action, resource: expect.resource, resourceId, status: res.statusCode, requestId });
  }
  return { status: res.statusCode, body: parsed };
}

const auditRows = async (tenantId: string): Promise<AuditRow[]> =>
  (await sys.services.pool.query<AuditRow>('SELECT a.*, a.id::text AS id FROM audit_log a WHERE a.tenant_id = $1::uuid ORDER BY a.at, a.id', [tenantId])).rows;

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0, leader: false, env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  admin = await signToken(TEST_JWT_SECRET, { tenantId: tenantA, sub: 'user-admin-1', roles: ['admin'] });
  member = await signToken(TEST_JWT_SECRET, { tenantId: tenantA, sub: 'user-member-2' });
  adminB = await signToken(TEST_JWT_SECRET, { tenantId: tenantB, sub: 'user-b', roles: ['admin'] });

  // Jobs: create (and its /api alias and the singular form), update twice, cancel, retry, bulk.
  const job = await call('POST', '/v1/enrichment/jobs', admin, { type: 'test_job', payload: { email: PERSON, api_token: 'tok-should-vanish' } }, { action: 'job.create', resource: 'job' });
  expect(job.status).toBe(202);
  const jobId = job.body.id as string;
  await call('POST', '/api/enrichment/jobs', member, { type: 'test_job', runAt: new Date(Date.now() + 3_600_000).toISOString() }, { action: 'job.create', resource: 'job' });
  expect((await call('PATCH', `/v1/enrichment/jobs/${jobId}`, admin, { priority: 1 }, { action: 'job.update', resource: 'job', id: jobId })).status).toBe(200);
  expect((await call('PUT', `/api/enrichment/jobs/${jobId}`, admin, { tags: ['a'] }, { action: 'job.update', resource: 'job', id: jobId })).status).toBe(200);
  expect((await call('DELETE', `/v1/enrichment/jobs/${jobId}`, admin, undefined, { action: 'job.cancel', resource: 'job', id: jobId })).status).toBe(200);
  expect((await call('POST', `/v1/enrichment/jobs/${jobId}/retry`, admin, {}, { action: 'job.retry', resource: 'job', id: jobId })).status).toBe(202);
  expect((await call('POST', '/v1/enrichment/jobs/bulk', admin, { jobIds: [jobId], action: 'cancel' }, { action: 'job.bulk_cancel', resource: 'job', id: null })).status).toBe(200);
  // A failed call is recorded with its status; a missing job's id is still the one asked about.
  const missing = randomUUID();
  expect((await call('DELETE', `/v1/enrichment/jobs/${missing}`, admin, undefined, { action: 'job.cancel', resource: 'job', id: missing })).status).toBe(404);
  // A runner's report is a tenant-token call like the others (409: the job is not running).
  expect((await call('POST', '/v1/enrichment/webhook', admin, { jobId, event: 'job.progress', data: { processed: 1, total: 2 } }, { action: 'job.report', resource: 'job', id: null })).status).toBe(409);

  // Lists, plans, exports.
  const list = await call('POST', '/v1/lists', member, { name: `people of ${PERSON}`, entries: [{ email: PERSON, first_name: 'Audit' }] }, { action: 'list.create', resource: 'list' });
  expect(list.status).toBe(201);
  expect((await call('POST', '/v1/enrichment/plans', admin, { name: 'validate', steps: [{ type: 'email_validation' }] }, { action: 'plan.create', resource: 'plan' })).status).toBe(201);
  expect((await call('POST', '/v1/exports', admin, { listId: list.body.id, format: 'csv' }, { action: 'export.create', resource: 'export' })).status).toBe(202);

  // Webhooks: endpoint created (its secret in the answer), deleted; the default secret rotated.
  const endpoint = await call('POST', '/v1/webhooks/endpoints', admin, { url: 'http://127.0.0.1:9/hook' }, { action: 'webhook_endpoint.create', resource: 'webhook_endpoint' });
  expect(endpoint.status).toBe(201);
  secrets.push(endpoint.body.secret as string);
  expect((await call('DELETE', `/v1/webhooks/endpoints/${endpoint.body.id as string}`, admin, undefined, { action: 'webhook_endpoint.delete', resource: 'webhook_endpoint', id: endpoint.body.id as string })).status).toBe(200);
  const rotated = await call('POST', '/v1/webhooks/secret/rotate', admin, {}, { action: 'webhook_secret.rotate', resource: 'webhook_secret', id: null });
  expect(rotated.status).toBe(200);
  secrets.push(rotated.body.secret as string);

  // Not recorded: reads, and calls without a valid token.
  await call('GET', `/v1/enrichment/jobs/${jobId}`, admin);
  await call('GET', '/v1/usage', admin);
  await call('GET', '/v1/webhooks/endpoints', admin);
  await call('POST', '/v1/enrichment/jobs', 'not-a-token', { type: 'test_job' });
  await call('POST', '/v1/enrichment/webhook?provider=hunter', 'x', { anything: PERSON });

  // Tenant B: one call of its own.
  await call('POST', '/v1/enrichment/jobs', adminB, { type: 'test_job' });
  await waitFor(async () => (await auditRows(tenantA)).length >= expected.length && (await auditRows(tenantB)).length >= 1);
}, 60_000);
afterAll(async () => {
  await sys?.close();
});

describe('audit trail', () => {
  it('records each state-changing call with sub, action, resource, status and request id, in order', async () => {
    const rows = await auditRows(tenantA);
    expect(rows.map((r) => ({ action: r.action, resource: r.resource, resourceId: r.resource_id, status: r.status, requestId: r.request_id }))).toEqual(expected);
    for (const r of rows) {
      expect(r.tenant_id).toBe(tenantA);
      expect(['user-admin-1', 'user-member-2']).toContain(r.sub);
      expect(Date.now() - r.at.getTime()).toBeLessThan(60_000);
    }
    expect(rows.filter((r) => r.sub === 'user-member-2').map((r) => r.action)).toEqual(['job.create', 'list.create']);
    // exactly these columns: nothing else is kept
    const { rows: cols } = await sys.services.pool.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_log' ORDER BY ordinal_position");
    expect(cols.map((c) => c.column_name)).toEqual(['id', 'tenant_id', 'at', 'sub', 'action', 'resource', 'resource_id', 'status', 'request_id']);
  });

  it('keeps no body, secret or personal data', async () => {
    const { rows } = await sys.services.pool.query<{ dump: string }>('SELECT string_agg(a::text, E\'\\n\') AS dump FROM audit_log a');
    const dump = rows[0]!.dump.toLowerCase();
    expect(secrets).toHaveLength(2);
    for (const s of [...secrets, PERSON, 'tok-should-vanish', 'people of', 'hunter', '127.0.0.1:9', 'validate']) expect(dump).not.toContain(s.toLowerCase());
  });

  it('lists the trail to an admin, newest first, paged with a cursor', async () => {
    const seen: AuditItem[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: AuditPage } = await getJson<AuditPage>(sys.app, `/v1/audit?limit=4${cursor ? `&cursor=${cursor}` : ''}`, admin);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(4);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(Math.ceil(expected.length / 4));
    expect(seen.map((i) => i.requestId)).toEqual(expected.map((e) => e.requestId).reverse());
    const at = seen.map((i) => Date.parse(i.at));
    expect([...at].sort((a, b) => b - a)).toEqual(at);
    expect(Object.keys(seen[0]!).sort()).toEqual(['action', 'at', 'requestId', 'resource', 'resourceId', 'status', 'sub']);
  });

  it('filters by action and time', async () => {
    const cancels = await getJson<AuditPage>(sys.app, '/v1/audit?action=job.cancel', admin);
    expect(cancels.status).toBe(200);
    expect(cancels.body.items.map((i) => i.status)).toEqual([404, 200]);
    expect(cancels.body.items.every((i) => i.action === 'job.cancel' && i.resource === 'job')).toBe(true);
    const future = await getJson<AuditPage>(sys.app, `/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, admin);
    expect(future.body).toEqual({ items: [], nextCursor: null });
    const past = await getJson<AuditPage>(sys.app, `/v1/audit?to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&limit=500`, admin);
    expect(past.body.items).toHaveLength(expected.length);
    expect((await getJson(sys.app, '/v1/audit?action=DROP%20TABLE', admin)).status).toBe(400);
    expect((await getJson(sys.app, '/v1/audit?cursor=bogus', admin)).status).toBe(400);
  });

  it('answers any token of the tenant (not an admin call in CONTRACT.md), 401 without a token', async () => {
    const res = await getJson<AuditPage>(sys.app, '/v1/audit', member);
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    expect((await getJson(sys.app, '/v1/audit', 'nope')).status).toBe(401);
  });

  it("never shows one tenant another's records", async () => {
    const b = await getJson<AuditPage>(sys.app, '/v1/audit', adminB);
    expect(b.body.items.map((i) => [i.action, i.sub])).toEqual([['job.create', 'user-b']]);
    const a = await getJson<AuditPage>(sys.app, '/v1/audit?limit=500', admin);
    expect(a.body.items.some((i) => i.sub === 'user-b')).toBe(false);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await sys.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/v1/audit']?.get).toBeDefined();
    expect(JSON.stringify(doc.paths['/v1/audit'])).toContain('resourceId');
  });

  it('maps every route to a readable action, aliases like their originals, and names an unknown one by its path', () => {
    expect(auditActionOf('GET', '/v1/enrichment/jobs')).toBeNull();
    expect(auditActionOf('POST', '/api/enrichment/jobs/:id/retry')).toEqual({ action: 'job.retry', resource: 'job', id: 'param' });
    expect(auditActionOf('DELETE', '/v1/webhooks/endpoints/:id')?.action).toBe('webhook_endpoint.delete');
    expect(auditActionOf('POST', '/v1/privacy/erasures')?.action).toBe('erasure.create');
    expect(auditActionOf('DELETE', '/v1/lists/:id')).toEqual({ action: 'list.delete', resource: 'list', id: 'param' });
    expect(auditActionOf('POST', '/v1/gadgets')).toEqual({ action: 'gadget.create', resource: 'gadget', id: 'response' });
  });
});
