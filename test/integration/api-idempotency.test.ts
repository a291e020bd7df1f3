// Idempotency-Key: one job per key and body per tenant for 24 h, also under a burst of identical requests.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { postJson } from '../helpers/api.js';
import { type ErrorBody, detailPaths, expectErrorShape } from '../helpers/errors.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

let sys: TestSystem;
let token: string;
let tenantId: string;

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0 });
  tenantId = randomUUID();
  token = await sys.token({ tenantId });
});
afterAll(async () => {
  await sys?.close();
});

const withKey = (key: string) => ({ 'idempotency-key': key });

async function jobsWithKey(key: string): Promise<string[]> {
  const { rows } = await sys.services.pool.query<{ id: string }>('SELECT id FROM enrichment_jobs WHERE idempotency_key = $1::text', [key]);
  return rows.map((r) => r.id);
}

describe('Idempotency-Key', () => {
  it('answers 202 first, then 200 with the same job for the same key and body', async () => {
    const key = `k-${randomUUID()}`;
    const body = { type: 'test_job', payload: { a: 1, b: [1, 2] }, tags: ['x'] };
    const first = await postJson(sys.app, '/v1/enrichment/jobs', token, body, withKey(key));
    expect(first.status).toBe(202);
    const second = await postJson(sys.app, '/v1/enrichment/jobs', token, body, withKey(key));
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers.location).toBe(`/v1/enrichment/jobs/${first.body.id}`);
    expect(await jobsWithKey(key)).toEqual([first.body.id]);
  });

  it('compares bodies as canonical JSON: key order does not matter', async () => {
    const key = `k-${randomUUID()}`;
    const first = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: { a: 1, b: 2 }, priority: 2 }, withKey(key));
    const second = await postJson(sys.app, '/v1/enrichment/jobs', token, { priority: 2, payload: { b: 2, a: 1 }, type: 'test_job' }, withKey(key));
    expect([first.status, second.status]).toEqual([202, 200]);
    expect(second.body.id).toBe(first.body.id);
  });

  it('answers 422 for the same key with another body, and creates nothing', async () => {
    const key = `k-${randomUUID()}`;
    const first = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: { a: 1 } }, withKey(key));
    expect(first.status).toBe(202);
    const other = await postJson<ErrorBody>(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: { a: 2 } }, withKey(key));
    expect(other.status).toBe(422);
    expectErrorShape(other.body);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(detailPaths(other.body)).toEqual(['headers.idempotency-key']);
    expect(await jobsWithKey(key)).toEqual([first.body.id]);
  });

  it('keeps keys per tenant', async () => {
    const key = `k-${randomUUID()}`;
    const body = { type: 'test_job' };
    const mine = await postJson(sys.app, '/v1/enrichment/jobs', token, body, withKey(key));
    const theirs = await postJson(sys.app, '/v1/enrichment/jobs', await sys.token(), body, withKey(key));
    expect([mine.status, theirs.status]).toEqual([202, 202]);
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('returns the job as it is now', async () => {
    const key = `k-${randomUUID()}`;
    const first = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job' }, withKey(key));
    await sys.services.pool.query("UPDATE enrichment_jobs SET priority = 1 WHERE id = $1::uuid", [first.body.id]);
    const again = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job' }, withKey(key));
    expect(again.status).toBe(200);
    expect(again.body.priority).toBe(1);
  });

  it('refuses a malformed key with 400 naming the header', async () => {
    for (const key of ['x'.repeat(256), 'has space']) {
      const res = await postJson<ErrorBody>(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job' }, withKey(key));
      expect(res.status, key).toBe(400);
      expect(detailPaths(res.body)).toEqual(['headers.idempotency-key']);
    }
  });

  it('creates exactly one job for 20 concurrent identical requests', async () => {
    const key = `k-${randomUUID()}`;
    const body = { type: 'test_job', payload: { burst: true } };
    const answers = await Promise.all(Array.from({ length: 20 }, () => postJson(sys.app, '/v1/enrichment/jobs', token, body, withKey(key))));
    const statuses = answers.map((a) => a.status);
    for (const s of statuses) expect([200, 202, 409]).toContain(s);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    const ids = new Set(answers.filter((a) => a.status !== 409).map((a) => a.body.id));
    expect(ids.size).toBe(1);
    expect(await jobsWithKey(key)).toEqual([...ids]);
    const { rows } = await sys.services.pool.query('SELECT count(*)::int AS n FROM enrichment_jobs WHERE tenant_id = $1::uuid AND payload @> $2::jsonb', [
      tenantId,
      JSON.stringify({ burst: true }),
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('creates exactly one job when 20 identical requests are spread over several batches', async () => {
    const key = `k-${randomUUID()}`;
    const body = { type: 'test_job', payload: { spread: key } };
    // Staggered starts put the requests into different, overlapping insert transactions.
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, (i % 7) * 3));
        return postJson(sys.app, '/v1/enrichment/jobs', token, body, withKey(key));
      }),
    );
    for (const a of answers) expect([200, 202, 409]).toContain(a.status);
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(new Set(answers.filter((a) => a.status !== 409).map((a) => a.body.id)).size).toBe(1);
    expect(await jobsWithKey(key)).toHaveLength(1);
  });

  it('creates one job per key for a burst of different keys mixed with repeats', async () => {
    const keys = Array.from({ length: 5 }, () => `k-${randomUUID()}`);
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, i) => postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: { n: i % 5 } }, withKey(keys[i % 5]!))),
    );
    for (const [i, key] of keys.entries()) {
      const mine = answers.filter((_, j) => j % 5 === i);
      expect(mine.filter((a) => a.status === 202)).toHaveLength(1);
      expect(new Set(mine.map((a) => a.body.id)).size).toBe(1);
      expect(await jobsWithKey(key)).toHaveLength(1);
    }
  });

  it('frees a key after 24 hours', async () => {
    const key = `k-${randomUUID()}`;
    const first = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: { v: 1 } }, withKey(key));
    expect(first.status).toBe(202);
    await sys.services.pool.query("UPDATE enrichment_jobs SET created_at = created_at - interval '25 hours' WHERE id = $1::uuid", [first.body.id]);
    // Another body would be a 422 within 24 h; after them it is a new job.
    const again = await postJson<Job>(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: { v: 2 } }, withKey(key));
    expect(again.status).toBe(202);
    expect(again.body.id).not.toBe(first.body.id);
    expect(await jobsWithKey(key)).toEqual([again.body.id]);
    const repeat = await postJson<Job>(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: { v: 2 } }, withKey(key));
    expect(repeat.status).toBe(200);
    expect(repeat.body.id).toBe(again.body.id);
  });

  it('still holds a key at 23 hours', async () => {
    const key = `k-${randomUUID()}`;
    const first = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job' }, withKey(key));
    await sys.services.pool.query("UPDATE enrichment_jobs SET created_at = created_at - interval '23 hours' WHERE id = $1::uuid", [first.body.id]);
    const again = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job' }, withKey(key));
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
  });

  it('works on the older route too', async () => {
    const listId = randomUUID();
    const planId = randomUUID();
    await sys.services.pool.query('INSERT INTO lists (id, tenant_id, name) VALUES ($1::uuid, $2::uuid, $3::text)', [listId, tenantId, 'l']);
    await sys.services.pool.query("INSERT INTO enrichment_plans (id, tenant_id, name, steps) VALUES ($1::uuid, $2::uuid, 'p', '[]'::jsonb)", [planId, tenantId]);
    const key = `k-${randomUUID()}`;
    const first = await postJson(sys.app, '/v1/enrichment/job', token, { list_id: listId, plan_id: planId }, withKey(key));
    const second = await postJson(sys.app, '/api/enrichment/job', token, { list_id: listId, plan_id: planId }, withKey(key));
    expect([first.status, second.status]).toEqual([202, 200]);
    expect(second.body.id).toBe(first.body.id);
  });
});
