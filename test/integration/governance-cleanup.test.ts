// tenant_cleanup end to end: a tenant with lists, jobs, results, exports, webhooks and cache
// entries is cleaned up; then every tenant table and the Redis prefix hold nothing of it but
// the cleanup job, its history and the audit trail, every API call finds nothing, and a second
// tenant's data is whole. Admin only (403 otherwise), and recorded in the audit trail.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { getJson, postJson } from '../helpers/api.js';
import { type SeededTenant, seedProviderRows, seedTenant, tenantCounts, waitForJob } from '../helpers/governance.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';
import { REDIS_URL } from '../helpers/urls.js';

let sys: TestSystem;
let redis: Redis;
const tenantA = randomUUID();
const tenantB = randomUUID();
let adminA: string;
let memberA: string;
let adminB: string;
let seededA: SeededTenant;
let seededB: SeededTenant;

const people = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ first_name: `Ann${i}`, last_name: 'Lee', email: `ann${i}.${tag}@example.com`, phone: `+1 415 555 01${String(i).padStart(2, '0')}`, contact_name: `Ann${i} Lee` }));

beforeAll(async () => {
  sys = await startTestSystem({ env: { WEBHOOK_ALLOW_PRIVATE: 'true', RETENTION_BATCH_SIZE: '7' } });
  redis = new Redis(REDIS_URL);
  adminA = await sys.token({ tenantId: tenantA, roles: ['admin'] });
  memberA = await sys.token({ tenantId: tenantA });
  adminB = await sys.token({ tenantId: tenantB, roles: ['admin'] });
  seededA = await seedTenant(sys.app, adminA, [people('a', 20), people('a2', 5)]);
  seededB = await seedTenant(sys.app, adminB, [people('b', 6)]);
  await seedProviderRows(sys.services.pool, tenantA, seededA.jobIds[0]!, 'ann0.a@example.com');
  await seedProviderRows(sys.services.pool, tenantB, seededB.jobIds[0]!, 'ann0.b@example.com');
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await sys?.close();
});

/** Every key under the test's prefix with what it holds, as text. */
async function redisDump(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${sys.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string' ? await redis.get(key)
        : type === 'hash' ? JSON.stringify(await redis.hgetall(key))
        : type === 'list' ? JSON.stringify(await redis.lrange(key, 0, -1))
        : type === 'set' ? JSON.stringify(await redis.smembers(key))
        : type === 'zset' ? JSON.stringify(await redis.zrange(key, 0, -1))
        : type === 'stream' ? JSON.stringify(await redis.xrange(key, '-', '+'))
        : '';
      out.set(key, value ?? '');
    }
  } while (cursor !== '0');
  return out;
}

describe('tenant_cleanup', () => {
  it('is refused without the admin role', async () => {
    const res = await postJson(sys.app, '/v1/enrichment/jobs', memberA, { type: 'tenant_cleanup', payload: {} });
    expect(res.status).toBe(403);
    expect((res.body as unknown as { error: { code: string } }).error.code).toBe('forbidden');
  });

  it('removes everything of the tenant but itself, its history and the audit trail; the other tenant stays whole', async () => {
    const before = await tenantCounts(sys.services.pool, tenantA);
    const beforeB = await tenantCounts(sys.services.pool, tenantB);
    for (const t of ['list_entries', 'entry_results', 'enrichment_jobs', 'exports', 'export_parts', 'webhook_endpoints', 'webhook_deliveries', 'provider_calls', 'provider_cache (scope)']) {
      expect(before[t], t).toBeGreaterThan(0);
    }
    const oldJobIds = (await sys.services.pool.query<{ id: string }>('SELECT id FROM enrichment_jobs WHERE tenant_id = $1', [tenantA])).rows.map((r) => r.id);
    const dumpBefore = [...(await redisDump()).entries()];
    expect(dumpBefore.some(([k, v]) => k.includes(tenantA) || v.includes(tenantA))).toBe(true);

    const submitted = await postJson(sys.app, '/v1/enrichment/jobs', adminA, { type: 'tenant_cleanup', payload: {} });
    expect(submitted.status).toBe(202);
    const cleanupId = submitted.body.id;
    const done = await waitForJob(sys.app, adminA, cleanupId, 60_000);
    expect(done.status).toBe('completed');
    const result = done.result as { tables: Record<string, number>; cancelledJobs: number };
    // rows removed per table: what the tenant held (the scheduled job was cancelled first)
    expect(result.cancelledJobs).toBe(1);
    expect(result.tables.list_entries).toBe(before.list_entries);
    expect(result.tables.entry_results).toBe(before.entry_results);
    expect(result.tables.exports).toBe(before.exports);
    expect(result.tables.export_parts).toBe(before.export_parts);
    expect(result.tables.webhook_endpoints).toBe(1);
    expect(result.tables.provider_cache).toBe(1);
    expect(result.tables.provider_calls).toBe(before.provider_calls);
    expect(result.tables.enrichment_jobs).toBe(oldJobIds.length);

    // Every tenant table: only the cleanup job's own rows and the audit trail are left.
    const after = await tenantCounts(sys.services.pool, tenantA);
    const left = Object.entries(after).filter(([, n]) => n > 0).map(([t]) => t).sort();
    expect(left).toEqual(['audit_log', 'enrichment_job_events', 'enrichment_job_search', 'enrichment_jobs', 'tenant_cleanup_progress'].filter((t) => after[t]! > 0));
    const own = await sys.services.pool.query<{ t: string; n: number }>(
      `SELECT 'jobs' AS t, count(*)::int AS n FROM enrichment_jobs WHERE tenant_id = $1 AND id <> $2
       UNION ALL SELECT 'events', count(*)::int FROM enrichment_job_events WHERE tenant_id = $1 AND job_id <> $2
       UNION ALL SELECT 'search', count(*)::int FROM enrichment_job_search WHERE tenant_id = $1 AND job_id <> $2
       UNION ALL SELECT 'progress', count(*)::int FROM tenant_cleanup_progress WHERE tenant_id = $1 AND job_id <> $2`,
      [tenantA, cleanupId],
    );
    expect(own.rows.every((r) => r.n === 0), JSON.stringify(own.rows)).toBe(true);
    await waitFor(async () => (await sys.services.pool.query('SELECT 1 FROM audit_log WHERE tenant_id = $1 AND resource_id = $2', [tenantA, cleanupId])).rowCount === 1);
    const actions = (await sys.services.pool.query<{ action: string }>('SELECT action FROM audit_log WHERE tenant_id = $1 AND resource_id = $2', [tenantA, cleanupId])).rows;
    expect(actions).toEqual([{ action: 'tenant.cleanup' }]);

    // The other tenant's rows are all there.
    // (delivery attempts to its unreachable endpoint go on meanwhile, and its audit records are
    // written off the request path: those only grow)
    const afterB = await tenantCounts(sys.services.pool, tenantB);
    for (const [t, n] of Object.entries(beforeB)) {
      if (t === 'webhook_delivery_attempts' || t === 'audit_log') expect(afterB[t], t).toBeGreaterThanOrEqual(n);
      else expect(afterB[t], t).toBe(n);
    }

    // Redis: nothing names the tenant or any of its old jobs, but the cleanup job's own events.
    const dump = await redisDump();
    for (const [key, value] of dump) {
      const text = `${key} ${value}`;
      for (const id of [...oldJobIds, ...seededA.listIds]) expect(text.includes(id), `${key} holds ${id}`).toBe(false);
      if (key.includes(tenantA)) {
        const entries = (await redis.xrange(key, '-', '+')).map(([, f]) => JSON.parse(f[f.indexOf('job') + 1]!) as Job);
        expect(entries.every((j) => j.id === cleanupId)).toBe(true);
      }
    }
    expect([...dump.values()].some((v) => v.includes(tenantB))).toBe(true);

    // Every other API call of the tenant finds nothing.
    const page = async (url: string) => (await getJson<{ items: { id: string }[] }>(sys.app, url, adminA)).body.items;
    expect(await page('/v1/lists')).toEqual([]);
    expect(await page('/v1/exports')).toEqual([]);
    expect(await page('/v1/enrichment/plans')).toEqual([]);
    expect(await page('/v1/webhooks/endpoints')).toEqual([]);
    expect(await page('/v1/usage')).toEqual([]);
    expect((await page('/v1/enrichment/jobs')).map((j) => j.id)).toEqual([cleanupId]);
    expect((await getJson(sys.app, `/v1/lists/${seededA.listIds[0]}`, adminA)).status).toBe(404);
    expect((await getJson(sys.app, `/v1/enrichment/jobs/${seededA.jobIds[0]}`, adminA)).status).toBe(404);
    expect((await getJson(sys.app, `/v1/exports/${seededA.exportIds[0]}`, adminA)).status).toBe(404);
    expect((await getJson(sys.app, `/v1/enrichment/jobs/${cleanupId}/history`, adminA)).status).toBe(200);
    // The second tenant still reads its own.
    expect((await getJson<{ items: unknown[] }>(sys.app, '/v1/lists', adminB)).body.items).toHaveLength(1);
    const download = await sys.app.inject({ method: 'GET', url: `/v1/exports/${seededB.exportIds[0]}/download`, headers: { authorization: `Bearer ${adminB}` } });
    expect(download.statusCode).toBe(200);
    expect(download.body).toContain('ann0.b@example.com');
  });
});
