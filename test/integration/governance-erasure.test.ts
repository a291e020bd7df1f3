// Erasure of one person by email across two lists: afterwards a pg_dump of the database, the
// Redis keys under the prefix and the export files hold no trace of the email (in any case),
// the erasure record holds no personal data, and the subject is never sent to a provider
// again; a provider's "may not process this person" (Hunter 451) marks the subject too.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson } from '../helpers/api.js';
import { LOCAL_PLAN_STEPS, seedProviderRows, waitForJob } from '../helpers/governance.js';
import { type ProviderTestSystem, startProviderSystem } from '../helpers/provider-system.js';
import { waitFor } from '../helpers/system.js';
import { REDIS_URL } from '../helpers/urls.js';

const run = promisify(execFile);
const EMAIL = 'Erin.Target@Example.com';
const LOWER = EMAIL.toLowerCase();

let sys: ProviderTestSystem;
let redis: Redis;
const tenantA = randomUUID();
let admin: string;
let member: string;
const exportIds: string[] = [];
const listIds: string[] = [];

const others = (tag: string) => Array.from({ length: 4 }, (_, i) => ({ first_name: `Bo${i}`, last_name: 'Ray', email: `bo${i}.${tag}@example.com`, phone: `+1 415 555 02${i}0` }));

beforeAll(async () => {
  sys = await startProviderSystem({ providers: ['hunter'], env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  redis = new Redis(REDIS_URL);
  admin = await sys.token({ tenantId: tenantA, roles: ['admin'] });
  member = await sys.token({ tenantId: tenantA });
  await postJson(sys.app, '/v1/webhooks/endpoints', admin, { url: 'http://127.0.0.1:9/hook' });
  const plan = await postJson<{ id: string }>(sys.app, '/v1/enrichment/plans', admin, { name: 'local', steps: LOCAL_PLAN_STEPS });
  const lists = [
    [{ first_name: 'Erin', last_name: 'Target', email: EMAIL, phone: '+1 415 555 0199', contact_name: 'Erin Target' }, ...others('one')],
    // in the second list the person is someone else's candidate contact, written lower-case
    [{ first_name: 'Cal', last_name: 'Other', email: 'cal@example.com', contact_name: 'Erin Target', contact_email: LOWER }, ...others('two')],
  ];
  for (const entries of lists) {
    const list = await postJson<{ id: string }>(sys.app, '/v1/lists', admin, { name: 'people', entries });
    listIds.push(list.body.id);
    const job = await postJson(sys.app, '/v1/enrichment/jobs', admin, { type: 'list_enrichment', payload: { listId: list.body.id, planId: plan.body.id } });
    expect((await waitForJob(sys.app, admin, job.body.id)).status).toBe('completed');
    const exp = await postJson<{ id: string }>(sys.app, '/v1/exports', admin, { listId: list.body.id, format: 'jsonl' });
    exportIds.push(exp.body.id);
    expect((await waitForJob(sys.app, admin, exp.body.id)).status).toBe('completed');
  }
  const lead = await postJson(sys.app, '/v1/enrichment/jobs', admin, { type: 'single_lead_enrichment', payload: { lead: lists[0]![0], steps: LOCAL_PLAN_STEPS } });
  await waitForJob(sys.app, admin, lead.body.id);
  await seedProviderRows(sys.services.pool, tenantA, lead.body.id, LOWER);
  await sys.services.pool.query("INSERT INTO enrichment_job_events (job_id, tenant_id, to_status, message) VALUES ($1, $2, 'failed', $3)", [lead.body.id, tenantA, `no answer for ${EMAIL}`]);
}, 90_000);

afterAll(async () => {
  redis?.disconnect();
  await sys?.close();
});

async function pgDump(): Promise<string> {
  const { stdout } = await run('pg_dump', ['-h', '127.0.0.1', '-U', 'postgres', sys.db.name], { maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

async function redisText(): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${sys.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      parts.push(key);
      if (type === 'string') parts.push((await redis.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, 0, -1)));
      else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}

describe('erasure', () => {
  it('needs the admin role and at least one identifier', async () => {
    expect((await postJson(sys.app, '/v1/privacy/erasures', member, { email: EMAIL })).status).toBe(403);
    expect((await getJson(sys.app, `/v1/privacy/erasures/${randomUUID()}`, member)).status).toBe(403);
    const empty = await postJson<{ error: { code: string; details: { path: string }[] } }>(sys.app, '/v1/privacy/erasures', admin, {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.details[0]!.path).toBe('email');
    const bad = await postJson<{ error: { details: { path: string }[] } }>(sys.app, '/v1/privacy/erasures', admin, { phone: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0]!.path).toBe('phone');
  });

  it('leaves no trace of the email in PostgreSQL, Redis or the export files', async () => {
    // Before: the person is everywhere.
    expect((await pgDump()).toLowerCase()).toContain(LOWER);
    expect((await redisText()).toLowerCase()).toContain(LOWER);

    const res = await postJson<{ id: string; status: string }>(sys.app, '/v1/privacy/erasures', admin, { email: EMAIL });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('completed');
    const read = await getJson<{ id: string; status: string; counts: Record<string, number> }>(sys.app, `/v1/privacy/erasures/${res.body.id}`, admin);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: res.body.id, status: 'completed' });
    expect(read.body.counts.list_entries_deleted).toBe(1);
    expect(read.body.counts.list_entries_redacted).toBe(1);
    expect(read.body.counts.export_files_deleted).toBe(2);
    expect(read.body.counts.provider_cache_deleted).toBe(1);
    expect(JSON.stringify(read.body).toLowerCase()).not.toContain('erin');

    const dump = await pgDump();
    expect(dump).not.toContain(EMAIL);
    expect(dump.toLowerCase()).not.toContain(LOWER);
    const keys = await redisText();
    expect(keys).not.toContain(EMAIL);
    expect(keys.toLowerCase()).not.toContain(LOWER);
    // BullMQ's task data carries ids only
    expect(keys).not.toContain('Erin');

    // The files that held the person are gone (the records stay, marked); a new export is clean.
    for (const id of exportIds) {
      const dl = await sys.app.inject({ method: 'GET', url: `/v1/exports/${id}/download`, headers: { authorization: `Bearer ${admin}` } });
      expect(dl.statusCode).toBe(409);
    }
    const fresh = await postJson<{ id: string }>(sys.app, '/v1/exports', admin, { listId: listIds[1], format: 'csv' });
    await waitForJob(sys.app, admin, fresh.body.id);
    const file = await sys.app.inject({ method: 'GET', url: `/v1/exports/${fresh.body.id}/download`, headers: { authorization: `Bearer ${admin}` } });
    expect(file.statusCode).toBe(200);
    expect(file.body).toContain('cal@example.com');
    expect(file.body.toLowerCase()).not.toContain(LOWER);
    // the other people are untouched
    const entries = await getJson<{ items: { data: Record<string, string> }[] }>(sys.app, `/v1/lists/${listIds[0]}/entries`, admin);
    expect(entries.body.items.map((e) => e.data.email)).toEqual(others('one').map((o) => o.email));

    // audit: the erasure is recorded, with its id and nothing of the person
    await waitFor(async () => (await sys.services.pool.query("SELECT 1 FROM audit_log WHERE action = 'erasure.create' AND resource_id = $1", [res.body.id])).rowCount === 1);
  });

  it('never sends an erased subject to a provider, and marks one a provider may not process', async () => {
    const steps = [{ type: 'provider', options: { providers: ['hunter'], want: 'email' } }];
    const lead = (email: string) => ({ first_name: 'Erin', last_name: 'Target', domain: 'example.com', email });
    const before = sys.sim.stats().providers.hunter.calls;
    const erased = await postJson(sys.app, '/v1/enrichment/jobs', admin, { type: 'single_lead_enrichment', payload: { lead: lead(EMAIL.toUpperCase()), steps } });
    const done = await waitForJob(sys.app, admin, erased.body.id);
    expect(JSON.stringify(done.result)).toContain('erased_subject');
    expect(sys.sim.stats().providers.hunter.calls).toBe(before);

    // Hunter answers 451 for this person: marked, so another tenant's lookup asks no one.
    sys.sim.update({ forbiddenRate: 1 });
    const refused = 'refused.person@example.com';
    const first = await postJson(sys.app, '/v1/enrichment/jobs', admin, { type: 'single_lead_enrichment', payload: { lead: lead(refused), steps } });
    await waitForJob(sys.app, admin, first.body.id);
    expect(sys.sim.stats().providers.hunter.outcomes.forbidden).toBeGreaterThan(0);
    sys.sim.update({ forbiddenRate: 0 });
    const calls = sys.sim.stats().providers.hunter.calls;
    const other = await sys.token({ tenantId: randomUUID(), roles: ['admin'] });
    const second = await postJson(sys.app, '/v1/enrichment/jobs', other, { type: 'single_lead_enrichment', payload: { lead: lead(refused), steps } });
    const secondDone = await waitForJob(sys.app, other, second.body.id);
    expect(JSON.stringify(secondDone.result)).toContain('erased_subject');
    expect(sys.sim.stats().providers.hunter.calls).toBe(calls);
  });
});
