// tenant_export end to end: the archive downloaded from /v1/exports, unpacked here, holds a
// manifest and files whose contents match what the API answers for the same tenant, and
// nothing of another tenant. Admin only; recorded in the audit trail.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { extract } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { getJson, postJson } from '../helpers/api.js';
import { type SeededTenant, seedProviderRows, seedTenant, waitForJob } from '../helpers/governance.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

let sys: TestSystem;
const tenantA = randomUUID();
let admin: string;
let member: string;
let seeded: SeededTenant;
let otherTenant: SeededTenant;

const people = (tag: string, n: number) => Array.from({ length: n }, (_, i) => ({ first_name: `Ann${i}`, last_name: 'Lee', email: `ann${i}.${tag}@example.com`, notes: `line\n"${i}"` }));

beforeAll(async () => {
  sys = await startTestSystem({ env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  admin = await sys.token({ tenantId: tenantA, roles: ['admin'] });
  member = await sys.token({ tenantId: tenantA });
  seeded = await seedTenant(sys.app, admin, [people('x', 7), people('y', 3)]);
  await seedProviderRows(sys.services.pool, tenantA, seeded.jobIds[0]!, 'ann0.x@example.com');
  const adminB = await sys.token({ roles: ['admin'] });
  otherTenant = await seedTenant(sys.app, adminB, [people('other', 2)]);
}, 60_000);

afterAll(async () => {
  await sys?.close();
});

async function unpack(gz: Buffer): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        files.set(header.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  Readable.from([gunzipSync(gz)]).pipe(ex);
  await done;
  return files;
}

const lines = (text: string | undefined) => (text ?? '').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('tenant_export', () => {
  it('is refused without the admin role', async () => {
    const res = await postJson(sys.app, '/v1/enrichment/jobs', member, { type: 'tenant_export', payload: {} });
    expect(res.status).toBe(403);
  });

  it('writes an archive whose files match the API', async () => {
    const job = await postJson(sys.app, '/v1/enrichment/jobs', admin, { type: 'tenant_export', payload: {} });
    expect(job.status).toBe(202);
    const done = await waitForJob(sys.app, admin, job.body.id, 60_000);
    expect(done.status).toBe('completed');
    const exportId = (done.result as { exportId: string }).exportId;
    expect(exportId).toBe(job.body.id);

    const meta = await getJson<{ id: string; kind: string; listId: string | null; format: string; status: string; bytes: number }>(sys.app, `/v1/exports/${exportId}`, admin);
    expect(meta.body).toMatchObject({ id: exportId, kind: 'tenant', listId: null, format: 'tar.gz', status: 'completed' });
    const listed = await getJson<{ items: { id: string }[] }>(sys.app, '/v1/exports', admin);
    expect(listed.body.items.map((i) => i.id)).toContain(exportId);

    const dl = await sys.app.inject({ method: 'GET', url: `/v1/exports/${exportId}/download`, headers: { authorization: `Bearer ${admin}` } });
    expect(dl.statusCode).toBe(200);
    expect(dl.headers['content-type']).toBe('application/gzip');
    expect(dl.rawPayload.length).toBe(meta.body.bytes);
    const files = await unpack(dl.rawPayload);

    const manifest = JSON.parse(files.get('manifest.json')!) as { formatVersion: number; createdAt: string; files: { name: string; rows: number }[] };
    expect(manifest.formatVersion).toBe(1);
    expect(Number.isNaN(Date.parse(manifest.createdAt))).toBe(false);
    for (const f of manifest.files) {
      expect(files.has(f.name), f.name).toBe(true);
      const rows = f.name.endsWith('.csv') ? Math.max(0, (parse(files.get(f.name)!) as unknown[]).length - 1) : lines(files.get(f.name)).length;
      expect(rows, f.name).toBe(f.rows);
    }

    // entries: as GET /v1/lists/:id/entries answers them
    const entries = lines(files.get('entries.jsonl'));
    for (const listId of seeded.listIds) {
      const api = await getJson<{ items: { id: string; data: unknown; enrichment: unknown }[] }>(sys.app, `/v1/lists/${listId}/entries?limit=500`, admin);
      const mine = entries.filter((e) => e.listId === listId).map((e) => ({ id: e.id, data: e.data, enrichment: e.enrichment }));
      expect(mine).toEqual(api.body.items.map((i) => ({ id: i.id, data: i.data, enrichment: i.enrichment })));
    }
    expect(entries).toHaveLength(10);

    // jobs: the listing's (the export job itself included), with their payloads and results
    const apiJobs = (await getJson<{ items: Job[] }>(sys.app, '/v1/enrichment/jobs?limit=500', admin)).body.items;
    const archived = new Map(lines(files.get('jobs.jsonl')).map((j) => [j.id as string, j]));
    expect([...archived.keys()].sort()).toEqual(apiJobs.map((j) => j.id).sort());
    for (const j of apiJobs.filter((x) => x.id !== exportId)) {
      expect(archived.get(j.id)).toMatchObject({ type: j.type, status: j.status, payload: j.payload, result: j.result });
    }

    const lists = (await getJson<{ items: { id: string; name: string }[] }>(sys.app, '/v1/lists', admin)).body.items;
    expect(lines(files.get('lists.jsonl')).map((l) => ({ id: l.id, name: l.name })).sort((a, b) => String(a.id).localeCompare(String(b.id))))
      .toEqual(lists.map((l) => ({ id: l.id, name: l.name })).sort((a, b) => a.id.localeCompare(b.id)));
    expect(lines(files.get('plans.jsonl')).map((p) => p.id)).toEqual([seeded.planId]);
    const endpoints = lines(files.get('webhook_endpoints.jsonl'));
    expect(endpoints.map((e) => e.id)).toEqual([seeded.endpointId]);
    expect(JSON.stringify(endpoints)).not.toContain('whsec_');
    expect(lines(files.get('exports.jsonl')).map((e) => e.id).sort()).toEqual([...seeded.exportIds, exportId].sort());
    expect(lines(files.get('webhook_deliveries.jsonl')).length).toBeGreaterThan(0);
    const usage = parse(files.get('usage.csv')!, { columns: true }) as { provider: string }[];
    expect(usage.map((u) => u.provider)).toEqual(['hunter']);
    await waitFor(async () => (await sys.services.pool.query("SELECT 1 FROM audit_log WHERE action = 'tenant.export' AND resource_id = $1", [exportId])).rowCount === 1);

    // nothing of the other tenant
    const all = [...files.values()].join('\n');
    for (const id of [...otherTenant.listIds, ...otherTenant.jobIds, otherTenant.planId]) expect(all).not.toContain(id);
    expect(all).not.toContain('other@example.com');
  });
});
