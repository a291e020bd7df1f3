// What POST /v1/enrichment/jobs (and its older and /api twins) accept, refuse, strip and store.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { postJson } from '../helpers/api.js';
import { type ErrorBody, detailPaths, expectErrorShape, memoryLogger } from '../helpers/errors.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

let sys: TestSystem;
let token: string;
let tenantId: string;
const captured = memoryLogger();

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0, log: captured.log });
  tenantId = randomUUID();
  token = await sys.token({ tenantId });
});
afterAll(async () => {
  await sys?.close();
});

async function post(body: unknown, url = '/v1/enrichment/jobs') {
  return postJson<Job | ErrorBody>(sys.app, url, token, body);
}

/** Posts and expects a 4xx error of the given status naming exactly these paths (in any order). */
async function refused(body: unknown, status: number, paths: string[], url = '/v1/enrichment/jobs'): Promise<ErrorBody> {
  const res = await post(body, url);
  expect(res.status).toBe(status);
  expectErrorShape(res.body);
  expect(detailPaths(res.body).sort()).toEqual([...paths].sort());
  return res.body;
}

async function raw(payload: string | Buffer, contentType: string | undefined, url = '/v1/enrichment/jobs') {
  const res = await sys.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${token}`, ...(contentType ? { 'content-type': contentType } : {}) },
    payload,
  });
  return { status: res.statusCode, body: res.json() as unknown, text: res.body };
}

async function storedPayload(id: string): Promise<unknown> {
  const { rows } = await sys.services.pool.query('SELECT payload FROM enrichment_jobs WHERE id = $1::uuid', [id]);
  return rows[0]?.payload;
}

async function insertListAndPlan(owner: string): Promise<{ listId: string; planId: string }> {
  const listId = randomUUID();
  const planId = randomUUID();
  await sys.services.pool.query('INSERT INTO tenants (id) VALUES ($1::uuid) ON CONFLICT DO NOTHING', [owner]);
  await sys.services.pool.query('INSERT INTO lists (id, tenant_id, name) VALUES ($1::uuid, $2::uuid, $3::text)', [listId, owner, 'people']);
  await sys.services.pool.query('INSERT INTO enrichment_plans (id, tenant_id, name, steps) VALUES ($1::uuid, $2::uuid, $3::text, $4::jsonb)', [
    planId,
    owner,
    'plan',
    JSON.stringify([{ type: 'rpc_score' }]),
  ]);
  return { listId, planId };
}

describe('top-level fields', () => {
  it('accepts a minimal body with the defaults', async () => {
    const res = await post({ type: 'test_job' });
    expect(res.status).toBe(202);
    const job = res.body as Job;
    expect(job).toMatchObject({ type: 'test_job', status: 'pending', priority: 3, maxAttempts: 3, payload: {}, tags: [], tenantId });
    expect(res.headers.location).toBe(`/v1/enrichment/jobs/${job.id}`);
  });

  it('refuses unknown top-level keys, naming each', async () => {
    await refused({ type: 'test_job', foo: 1 }, 400, ['foo']);
    await refused({ type: 'test_job', foo: 1, list_id: 'x' }, 400, ['foo', 'list_id']);
  });

  it('refuses an unknown type, listing the known ones', async () => {
    const body = await refused({ type: 'no_such_type' }, 400, ['type']);
    expect(body.error.code).toBe('unknown_job_type');
    expect(body.error.message).toContain('test_job');
    expect(body.error.message).toContain('list_enrichment');
    expect(body.error.details[0]!.known).toEqual(expect.arrayContaining(['list_enrichment', 'test_job']));
  });

  it('refuses a missing or non-string type', async () => {
    await refused({}, 400, ['type']);
    await refused({ type: 5 }, 400, ['type']);
    await refused({ type: '' }, 400, ['type']);
  });

  it.each([0, 6, 2.5, '3', null, -1])('refuses priority %j', async (priority) => {
    await refused({ type: 'test_job', priority }, 400, ['priority']);
  });

  it.each([1, 5])('accepts priority %i', async (priority) => {
    const res = await post({ type: 'test_job', priority });
    expect(res.status).toBe(202);
    expect((res.body as Job).priority).toBe(priority);
  });

  it.each([0, 26, 1.5, '3'])('refuses maxAttempts %j', async (maxAttempts) => {
    await refused({ type: 'test_job', maxAttempts }, 400, ['maxAttempts']);
  });

  it.each([-1, 25])('refuses maxRetries %j', async (maxRetries) => {
    await refused({ type: 'test_job', maxRetries }, 400, ['maxRetries']);
  });

  it('accepts maxAttempts 25 and maxRetries 24 (= 25 attempts)', async () => {
    expect(((await post({ type: 'test_job', maxAttempts: 25 })).body as Job).maxAttempts).toBe(25);
    expect(((await post({ type: 'test_job', maxRetries: 24 })).body as Job).maxAttempts).toBe(25);
  });

  it('refuses maxAttempts with maxRetries', async () => {
    await refused({ type: 'test_job', maxAttempts: 3, maxRetries: 2 }, 400, ['maxRetries']);
  });

  it('refuses runAt with delayMs', async () => {
    await refused({ type: 'test_job', runAt: new Date(Date.now() + 60_000).toISOString(), delayMs: 10 }, 400, ['delayMs']);
  });

  it.each(['tomorrow', '2024-13-01T00:00:00Z', '2024-02-30T00:00:00Z', 12345])('refuses runAt %j', async (runAt) => {
    await refused({ type: 'test_job', runAt }, 400, ['runAt']);
  });

  it.each([-1, 1.5, 'soon'])('refuses delayMs %j', async (delayMs) => {
    await refused({ type: 'test_job', delayMs }, 400, ['delayMs']);
  });

  it('refuses 21 tags, a 65-character tag and a non-string tag', async () => {
    await refused({ type: 'test_job', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 400, ['tags']);
    await refused({ type: 'test_job', tags: ['ok', 'x'.repeat(65)] }, 400, ['tags.1']);
    await refused({ type: 'test_job', tags: ['ok', 7] }, 400, ['tags.1']);
    await refused({ type: 'test_job', tags: 'a,b' }, 400, ['tags']);
  });

  it('accepts 20 tags of 64 characters', async () => {
    const tags = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(64, 'x'));
    const res = await post({ type: 'test_job', tags });
    expect(res.status).toBe(202);
    expect((res.body as Job).tags).toEqual(tags);
  });

  it('refuses a plain-http, non-http or malformed webhookUrl, accepts https', async () => {
    await refused({ type: 'test_job', webhookUrl: 'http://example.com/hook' }, 400, ['webhookUrl']);
    await refused({ type: 'test_job', webhookUrl: 'ftp://example.com/hook' }, 400, ['webhookUrl']);
    await refused({ type: 'test_job', webhookUrl: 'javascript:alert(1)' }, 400, ['webhookUrl']);
    await refused({ type: 'test_job', webhookUrl: 'not a url' }, 400, ['webhookUrl']);
    const ok = await post({ type: 'test_job', webhookUrl: 'https://example.com/hook' });
    expect(ok.status).toBe(202);
    expect((ok.body as Job).webhookUrl).toBe('https://example.com/hook');
  });

  it('names every wrong field at once', async () => {
    await refused({ type: 'test_job', priority: 9, maxAttempts: 0, tags: 'x' }, 400, ['priority', 'maxAttempts', 'tags']);
  });
});

describe('payloads', () => {
  it('names payload fields with dot paths', async () => {
    await refused({ type: 'test_job', payload: { sleepMs: 'long' } }, 400, ['payload.sleepMs']);
    await refused({ type: 'test_job', payload: { sleepMs: -1, fail: 'sometimes' } }, 400, ['payload.sleepMs', 'payload.fail']);
    await refused({ type: 'test_job', payload: [] }, 400, ['payload']);
    await refused({ type: 'test_job', payload: 'x' }, 400, ['payload']);
  });

  it('keeps the open keys of a test_job payload', async () => {
    const payload = { sleepMs: 0, note: 'hello', nested: { list: [1, 'two', { three: null }] }, emoji: '😀' };
    const res = await post({ type: 'test_job', payload });
    expect(res.status).toBe(202);
    expect((res.body as Job).payload).toEqual(payload);
    expect(await storedPayload((res.body as Job).id)).toEqual(payload);
  });

  it('refuses unknown keys and missing fields of a list_enrichment payload', async () => {
    await refused({ type: 'list_enrichment', payload: { listId: randomUUID(), planId: randomUUID(), extra: 1 } }, 400, ['payload.extra']);
    await refused({ type: 'list_enrichment', payload: { planId: randomUUID() } }, 400, ['payload.listId']);
    await refused({ type: 'list_enrichment', payload: { listId: 'x', planId: randomUUID(), chunkSize: 0 } }, 400, ['payload.listId', 'payload.chunkSize']);
  });

  it('removes secret-looking keys before storing, and logs their paths but never their values', async () => {
    const payload = {
      keep: 1,
      password: 'hunter2-SECRETVALUE-1',
      nested: { apiKey: 'SECRETVALUE-2', ok: true },
      people: [{ name: 'a', AccessToken: 'SECRETVALUE-3' }, { client_secret: 'SECRETVALUE-4' }],
      X_API_KEY: 'SECRETVALUE-5',
    };
    const before = captured.lines.length;
    const res = await post({ type: 'test_job', payload });
    expect(res.status).toBe(202);
    const expected = { keep: 1, nested: { ok: true }, people: [{ name: 'a' }, {}] };
    expect((res.body as Job).payload).toEqual(expected);
    expect(await storedPayload((res.body as Job).id)).toEqual(expected);
    const lines = captured.lines.slice(before);
    const warn = lines.map((l) => JSON.parse(l) as { level: number; removedPaths?: string[] }).find((l) => l.removedPaths);
    expect(warn?.level).toBe(40);
    expect(warn?.removedPaths?.sort()).toEqual(
      ['payload.password', 'payload.nested.apiKey', 'payload.people.0.AccessToken', 'payload.people.1.client_secret', 'payload.X_API_KEY'].sort(),
    );
    expect(captured.lines.join('\n')).not.toContain('SECRETVALUE');
  });
});

describe('bodies', () => {
  it('answers 413 for a body over 1 MiB', async () => {
    const res = await raw(JSON.stringify({ type: 'test_job', payload: { note: 'x'.repeat(1024 * 1024) } }), 'application/json');
    expect(res.status).toBe(413);
    expectErrorShape(res.body);
    expect((res.body as ErrorBody).error.code).toBe('payload_too_large');
  });

  it('accepts a body just under 1 MiB', async () => {
    const res = await raw(JSON.stringify({ type: 'test_job', payload: { note: 'x'.repeat(1024 * 1024 - 100) } }), 'application/json');
    expect(res.status).toBe(202);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'text/csv', 'application/xml', 'multipart/form-data; boundary=x'])(
    'answers 415 for %s',
    async (contentType) => {
      const res = await raw('{"type":"test_job"}', contentType);
      expect(res.status).toBe(415);
      expectErrorShape(res.body);
      expect((res.body as ErrorBody).error.code).toBe('unsupported_media_type');
    },
  );

  it('accepts application/json with a charset', async () => {
    expect((await raw('{"type":"test_job"}', 'application/json; charset=utf-8')).status).toBe(202);
  });

  it.each(['{"type":', '', 'nope', '{"type":"test_job"} trailing', "{'type':'test_job'}", '\u0000'])('answers 400 for the invalid JSON %j', async (text) => {
    const res = await raw(text, 'application/json');
    expect(res.status).toBe(400);
    expectErrorShape(res.body);
    expect((res.body as ErrorBody).error.code).toBe('invalid_json');
  });

  it('answers 400 for a body without a content type', async () => {
    const res = await raw('', undefined);
    expect(res.status).toBe(400);
    expectErrorShape(res.body);
  });

  it.each([
    ['null', 'null'],
    ['an array', '[{"type":"test_job"}]'],
    ['a string', '"test_job"'],
    ['a number', '42'],
  ])('answers 400 for a body that is %s', async (_label, text) => {
    const res = await raw(text, 'application/json');
    expect(res.status).toBe(400);
    expectErrorShape(res.body);
  });

  it('refuses nesting deeper than 32 levels, accepts 32', async () => {
    const nest = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    // The body is level 1, so the payload and 30 objects inside it make 32.
    const ok = await raw(`{"type":"test_job","payload":${nest(31)}}`, 'application/json');
    expect(ok.status).toBe(202);
    const deep = await raw(`{"type":"test_job","payload":${nest(32)}}`, 'application/json');
    expect(deep.status).toBe(400);
    expectErrorShape(deep.body);
    expect((deep.body as ErrorBody).error.message).toMatch(/32/);
    const veryDeep = await raw(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'application/json');
    expect(veryDeep.status).toBe(400);
  });

  it('refuses U+0000 in a string or a key, and lone surrogates', async () => {
    for (const text of [
      '{"type":"test_job","payload":{"note":"a\\u0000b"}}',
      '{"type":"test_job","payload":{"a\\u0000":1}}',
      '{"type":"test_job","tags":["\\u0000"]}',
      '{"type":"test_job","payload":{"note":"\\ud800"}}',
      '{"type":"test_job","payload":{"\\udc00":1}}',
    ]) {
      const res = await raw(text, 'application/json');
      expect(res.status, text).toBe(400);
      expectErrorShape(res.body);
      expect(res.text).not.toContain('\u0000');
    }
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %s at the top and inside the payload', async (key) => {
    for (const text of [`{"type":"test_job","${key}":{}}`, `{"type":"test_job","payload":{"x":[{"${key}":{"polluted":true}}]}}`]) {
      const res = await raw(text, 'application/json');
      expect(res.status, text).toBe(400);
      expectErrorShape(res.body);
      expect(detailPaths(res.body as ErrorBody)[0]).toMatch(new RegExp(`${key}$`));
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('references', () => {
  it('answers 422 naming payload.listId and payload.planId when they do not exist', async () => {
    const body = await refused({ type: 'list_enrichment', payload: { listId: randomUUID(), planId: randomUUID() } }, 422, ['payload.listId', 'payload.planId']);
    expect(body.error.code).toBe('unprocessable');
  });

  it('answers 422 naming only the missing one', async () => {
    const { listId, planId } = await insertListAndPlan(tenantId);
    await refused({ type: 'list_enrichment', payload: { listId, planId: randomUUID() } }, 422, ['payload.planId']);
    await refused({ type: 'list_enrichment', payload: { listId: randomUUID(), planId } }, 422, ['payload.listId']);
  });

  it("answers 422 for another tenant's list and plan", async () => {
    const { listId, planId } = await insertListAndPlan(randomUUID());
    await refused({ type: 'list_enrichment', payload: { listId, planId } }, 422, ['payload.listId', 'payload.planId']);
  });

  it('accepts its own list and plan, defaulting chunkSize to 50', async () => {
    const { listId, planId } = await insertListAndPlan(tenantId);
    const res = await post({ type: 'list_enrichment', payload: { listId, planId } });
    expect(res.status).toBe(202);
    expect((res.body as Job).payload).toEqual({ listId, planId, chunkSize: 50 });
  });
});

describe('older clients: POST /v1/enrichment/job', () => {
  it('answers 422 naming list_id and plan_id when they do not exist', async () => {
    const body = await refused({ list_id: randomUUID(), plan_id: randomUUID() }, 422, ['list_id', 'plan_id'], '/v1/enrichment/job');
    expect(body.error.code).toBe('unprocessable');
    await refused({ list_id: randomUUID(), plan_id: randomUUID() }, 422, ['list_id', 'plan_id'], '/api/enrichment/job');
  });

  it('answers 400 naming the field for a malformed id, a missing id or an unknown key', async () => {
    await refused({ list_id: 'nope', plan_id: randomUUID() }, 400, ['list_id'], '/v1/enrichment/job');
    await refused({ list_id: randomUUID() }, 400, ['plan_id'], '/v1/enrichment/job');
    await refused({ list_id: randomUUID(), plan_id: randomUUID(), type: 'test_job' }, 400, ['type'], '/v1/enrichment/job');
  });

  it("answers 422 for another tenant's list", async () => {
    const mine = await insertListAndPlan(tenantId);
    const theirs = await insertListAndPlan(randomUUID());
    await refused({ list_id: theirs.listId, plan_id: mine.planId }, 422, ['list_id'], '/v1/enrichment/job');
  });

  it('creates a list_enrichment job with chunkSize 50 and a Location header, under both prefixes', async () => {
    const { listId, planId } = await insertListAndPlan(tenantId);
    for (const base of ['/v1/enrichment', '/api/enrichment']) {
      const res = await post({ list_id: listId, plan_id: planId }, `${base}/job`);
      expect(res.status, base).toBe(202);
      const job = res.body as Job;
      expect(job).toMatchObject({ type: 'list_enrichment', status: 'pending', payload: { listId, planId, chunkSize: 50 }, tenantId });
      expect(res.headers.location).toBe(`${base}/jobs/${job.id}`);
      expect(await storedPayload(job.id)).toEqual({ listId, planId, chunkSize: 50 });
    }
  });
});

describe('the /api/enrichment alias', () => {
  it('answers like /v1/enrichment, with its own Location', async () => {
    const ok = await post({ type: 'test_job', payload: { a: 1 } }, '/api/enrichment/jobs');
    expect(ok.status).toBe(202);
    expect(ok.headers.location).toBe(`/api/enrichment/jobs/${(ok.body as Job).id}`);
    await refused({ type: 'test_job', foo: 1 }, 400, ['foo'], '/api/enrichment/jobs');
    await refused({ type: 'list_enrichment', payload: { listId: randomUUID(), planId: randomUUID() } }, 422, ['payload.listId', 'payload.planId'], '/api/enrichment/jobs');
    const res = await raw('x', 'text/plain', '/api/enrichment/jobs');
    expect(res.status).toBe(415);
  });
});

describe('logs', () => {
  it('never contain the Authorization header value', async () => {
    // Some requests of every kind have run by now; make sure at least one failed one did too.
    await raw('{', 'application/json');
    expect(captured.lines.length).toBeGreaterThan(10);
    const all = captured.lines.join('\n');
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[2]!);
  });
});

describe('webhookUrl with WEBHOOK_ALLOW_PRIVATE=true', () => {
  let open: TestSystem;
  beforeAll(async () => {
    open = await startTestSystem({ workers: 0, leader: false, env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  });
  afterAll(async () => {
    await open?.close();
  });

  it('accepts http but still refuses other schemes', async () => {
    const t = await open.token();
    const ok = await postJson<Job>(open.app, '/v1/enrichment/jobs', t, { type: 'test_job', webhookUrl: 'http://127.0.0.1:9/hook' });
    expect(ok.status).toBe(202);
    expect(ok.body.webhookUrl).toBe('http://127.0.0.1:9/hook');
    const bad = await postJson<ErrorBody>(open.app, '/v1/enrichment/jobs', t, { type: 'test_job', webhookUrl: 'ftp://127.0.0.1/hook' });
    expect(bad.status).toBe(400);
    expect(detailPaths(bad.body)).toEqual(['webhookUrl']);
  });
});
