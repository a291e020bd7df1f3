// Generated requests against the job endpoints: nothing a client sends may produce a 5xx or a body outside the error shape.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectErrorShape } from '../helpers/errors.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

const RUNS = 1000;
let sys: TestSystem;
let token: string;
let tenantId: string;
const existing: { jobId: string; listId: string; planId: string } = { jobId: '', listId: '', planId: '' };

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0 });
  tenantId = randomUUID();
  token = await sys.token({ tenantId });
  existing.listId = randomUUID();
  existing.planId = randomUUID();
  await sys.services.pool.query('INSERT INTO tenants (id) VALUES ($1::uuid)', [tenantId]);
  await sys.services.pool.query('INSERT INTO lists (id, tenant_id, name) VALUES ($1::uuid, $2::uuid, $3::text)', [existing.listId, tenantId, 'l']);
  await sys.services.pool.query("INSERT INTO enrichment_plans (id, tenant_id, name, steps) VALUES ($1::uuid, $2::uuid, 'p', '[]'::jsonb)", [existing.planId, tenantId]);
  const res = await sys.app.inject({
    method: 'POST',
    url: '/v1/enrichment/jobs',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: '{"type":"test_job"}',
  });
  existing.jobId = (res.json() as { id: string }).id;
}, 60_000);
afterAll(async () => {
  await sys?.close();
});
beforeEach(() => {
  tally = {};
});

/** The contract's promise for any answer: below 500, and errors in the shape. */
/** Answers by status, so a test can show its generator reached the success path too. */
let tally: Record<number, number> = {};
const accepted = () => (tally[200] ?? 0) + (tally[202] ?? 0);

function checkAnswer(res: LightMyRequestResponse, what: string): void {
  tally[res.statusCode] = (tally[res.statusCode] ?? 0) + 1;
  expect(res.statusCode, what).toBeLessThan(500);
  const body = res.json() as unknown;
  if (res.statusCode >= 200 && res.statusCode < 300) {
    expect(body, what).toMatchObject({ id: expect.any(String), tenantId, status: expect.any(String) });
  } else {
    expectErrorShape(body);
  }
}

// Strings that have hurt JSON-to-PostgreSQL paths before: NUL, lone surrogates, huge and odd numbers as text.
const nasty = fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83d', '😀', '', ' ', '%', '%zz', '\\', "'; DROP TABLE x; --", '$1', '{}', '[]', 'null', '__proto__', 'constructor');
const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), nasty);
const anyJson = fc.oneof(
  fc.jsonValue({ stringUnit: 'binary', maxDepth: 5 }),
  fc.jsonValue({ maxDepth: 3 }),
  anyString,
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -0, 0.1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53),
);

const uuidish = fc.oneof(fc.uuid(), fc.constant(randomUUID()), fc.constant('00000000-0000-0000-0000-000000000000'), fc.constant('FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'));
const isoish = fc.oneof(
  fc.date({ min: new Date(-62_000_000_000_000), max: new Date(250_000_000_000_000), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2024-02-29T12:00:00+14:00', '2023-02-29T00:00:00Z', '1970-01-01T00:00:00-12:00', '2024-01-01T00:00:00.123456789Z'),
  fc.date({ min: new Date(Date.now() - 86_400_000), max: new Date(Date.now() + 86_400_000), noInvalidDate: true }).map((d) => d.toISOString()),
);

// Values a client's own data may hold: anything JSON, and the strings above.
const openPayload = fc.dictionary(anyString, anyJson, { maxKeys: 6 });
const testJobPayload = fc
  .tuple(
    fc.record({ sleepMs: fc.integer({ min: 0, max: 10 }), fail: fc.constantFrom('once', 'always'), note: anyJson }, { requiredKeys: [] }),
    openPayload,
  )
  .map(([known, open]) => ({ ...open, ...known }));
const listPayload = fc.record(
  {
    listId: fc.oneof(uuidish, fc.constant('').map(() => existing.listId)),
    planId: fc.oneof(uuidish, fc.constant('').map(() => existing.planId)),
    chunkSize: fc.integer({ min: 1, max: 5000 }),
  },
  { requiredKeys: ['listId', 'planId'] },
);
const goodTags = fc.array(fc.oneof({ weight: 8, arbitrary: fc.string({ maxLength: 64 }) }, { weight: 1, arbitrary: nasty }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) }), { maxLength: 20 });
const goodUrl = fc.oneof(fc.webUrl({ validSchemes: ['https'], withQueryParameters: true, withFragments: true }), fc.constantFrom('https://example.com/h', 'https://[::1]/', 'https://user:pw@example.com:8443/a?b=c#d'));

/** A body the contract accepts (apart from references that may not exist). */
const validJobBody = fc
  .tuple(
    fc.oneof(fc.record({ type: fc.constant('test_job'), payload: testJobPayload }), fc.record({ type: fc.constant('list_enrichment'), payload: listPayload })),
    fc.record(
      {
        priority: fc.integer({ min: 1, max: 5 }),
        when: fc.oneof(fc.record({ runAt: isoish }), fc.record({ delayMs: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constant(365 * 24 * 3_600_000)) })),
        attempts: fc.oneof(fc.record({ maxAttempts: fc.integer({ min: 1, max: 25 }) }), fc.record({ maxRetries: fc.integer({ min: 0, max: 24 }) })),
        timeoutMs: fc.integer({ min: 100, max: 7 * 24 * 3_600_000 }),
        webhookUrl: goodUrl,
        tags: goodTags,
      },
      { requiredKeys: [] },
    ),
  )
  .map(([head, { when, attempts, ...rest }]) => ({ ...head, ...when, ...attempts, ...rest }) as Record<string, unknown>);

const JOB_KEYS = ['type', 'payload', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'maxRetries', 'timeoutMs', 'webhookUrl', 'tags'];
/** A valid body with one field given a wrong value, or one key too many. */
const mutatedJobBody = fc
  .tuple(validJobBody, fc.constantFrom(...JOB_KEYS, 'extra', 'list_id'), anyJson)
  .map(([body, key, value]) => ({ ...body, [key]: value }));
const jobBody = fc.oneof({ weight: 5, arbitrary: validJobBody }, { weight: 4, arbitrary: mutatedJobBody }, { weight: 1, arbitrary: anyJson });

const validLegacyBody = fc.record(
  {
    list_id: fc.oneof(uuidish, fc.constant('').map(() => existing.listId)),
    plan_id: fc.oneof(uuidish, fc.constant('').map(() => existing.planId)),
    chunk_size: fc.integer({ min: 1, max: 5000 }),
  },
  { requiredKeys: ['list_id', 'plan_id'] },
);
const legacyBody = fc.oneof(
  { weight: 5, arbitrary: validLegacyBody },
  { weight: 4, arbitrary: fc.tuple(validLegacyBody, fc.constantFrom('list_id', 'plan_id', 'chunk_size', 'type', 'payload'), anyJson).map(([b, k, v]) => ({ ...b, [k]: v })) },
  { weight: 1, arbitrary: anyJson },
);

const headerSafe = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/json; charset=latin1',
    'application/json;',
    'application/jsonx',
    'application/vnd.api+json',
    'text/plain',
    'text/csv',
    'application/x-www-form-urlencoded',
    'multipart/form-data',
    'multipart/form-data; boundary=zz',
    'application/octet-stream',
    '*/*',
    ';',
    '/',
    '',
  ),
  headerSafe,
);
const rawBody = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  anyJson.map((v) => JSON.stringify(v) ?? ''),
  jobBody.map((v) => JSON.stringify(v)),
  jobBody.map((v) => JSON.stringify(v).slice(0, -1)),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
);
const idempotencyKey = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.constantFrom('fixed-key-1', 'fixed-key-2') },
  { weight: 1, arbitrary: headerSafe },
);

async function postBody(url: string, body: unknown, key: string | undefined): Promise<LightMyRequestResponse> {
  return sys.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key !== undefined ? { 'idempotency-key': key } : {}) },
    payload: JSON.stringify(body),
  });
}

async function postRaw(url: string, payload: string | Buffer, type: string): Promise<LightMyRequestResponse> {
  return sys.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, ...(type ? { 'content-type': type } : {}) }, payload });
}

const params = { numRuns: RUNS, interruptAfterTimeLimit: 55_000, markInterruptAsFailure: true } as const;

describe.each(['/v1/enrichment/jobs', '/api/enrichment/jobs'])('POST %s', (url) => {
  const runs = url.startsWith('/v1') ? RUNS : RUNS / 4;

  it(`never answers 5xx to generated JSON bodies (${runs} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(jobBody, idempotencyKey, async (body, key) => checkAnswer(await postBody(url, body, key), JSON.stringify(body))),
      { ...params, numRuns: runs },
    );
    // About a tenth of the generated bodies are valid; the floor is well below that so the
    // check only catches a generator that stopped producing valid (or invalid) bodies.
    expect(accepted()).toBeGreaterThan(runs / 40);
    expect(tally[400]).toBeGreaterThan(runs / 40);
  }, 70_000);

  it(`never answers 5xx to generated raw bodies and content types (${runs} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(rawBody, contentType, async (payload, type) => checkAnswer(await postRaw(url, payload, type), `${type}: ${String(payload)}`)),
      { ...params, numRuns: runs },
    );
    expect(tally[415]).toBeGreaterThan(0);
    expect(tally[400]).toBeGreaterThan(0);
  }, 70_000);

  it('never answers 5xx to concurrent generated bodies sharing a batch (200 rounds of 8)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(jobBody, { minLength: 8, maxLength: 8 }), async (bodies) => {
        const answers = await Promise.all(bodies.map((b) => postBody(url, b, undefined)));
        answers.forEach((a, i) => checkAnswer(a, JSON.stringify(bodies[i])));
      }),
      { ...params, numRuns: 200 },
    );
    expect(accepted()).toBeGreaterThan(40);
  }, 70_000);
});

describe('POST /v1/enrichment/job (older clients)', () => {
  it(`never answers 5xx to generated JSON bodies (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(legacyBody, idempotencyKey, async (body, key) => checkAnswer(await postBody('/v1/enrichment/job', body, key), JSON.stringify(body))),
      params,
    );
    expect(accepted()).toBeGreaterThan(RUNS / 80);
    expect(tally[422]).toBeGreaterThan(RUNS / 80);
  }, 70_000);

  it(`never answers 5xx to generated raw bodies and content types (${RUNS / 2} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(rawBody, legacyBody.map((b) => JSON.stringify(b))), contentType, async (payload, type) =>
        checkAnswer(await postRaw('/v1/enrichment/job', payload, type), `${type}: ${String(payload)}`),
      ),
      { ...params, numRuns: RUNS / 2 },
    );
  }, 70_000);
});

// Path segments as a client might send them: encoded, raw, with escapes that do not decode.
const pathChars = fc.constantFrom(...'abcdefABCDEF0123456789-_.~%/?#&=+ :@!$\'()*,;'.split(''), '%00', '%zz', '%2F', '%25', '%E2%82', '%C0%AF', '..');
const rawSegment = fc.array(pathChars, { maxLength: 40 }).map((a) => a.join(''));
const encodedSegment = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => encodeURIComponent(s));
const generatedId = fc.oneof(uuidish, fc.constant('').map(() => existing.jobId), rawSegment, encodedSegment, uuidish.map((u) => u.toUpperCase()), uuidish.map((u) => `${u}x`));

describe.each(['/v1/enrichment/jobs', '/v1/enrichment/job', '/api/enrichment/jobs'])('GET %s/:id', (base) => {
  const runs = base.startsWith('/v1') ? RUNS : RUNS / 4;
  it(`never answers 5xx to generated ids (${runs} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(generatedId, async (id) => {
        const res = await sys.app.inject({ method: 'GET', url: `${base}/${id}`, headers: { authorization: `Bearer ${token}` } });
        checkAnswer(res, id);
        if (id === existing.jobId) expect(res.statusCode).toBe(200);
      }),
      { ...params, numRuns: runs },
    );
    expect(tally[200]).toBeGreaterThan(0);
    expect(tally[404]).toBeGreaterThan(0);
    expect(tally[400]).toBeGreaterThan(0);
  }, 70_000);
});

describe('Authorization headers', () => {
  it('answers 401 in the error shape to generated headers (500 runs)', async () => {
    const header = fc.oneof(headerSafe, headerSafe.map((s) => `Bearer ${s}`), fc.constantFrom('Bearer', 'bearer  x.y.z', `Bearer ${token}x`, `Bearer ${token.slice(0, -2)}`));
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        const res = await sys.app.inject({ method: 'GET', url: `/v1/enrichment/jobs/${existing.jobId}`, headers: { authorization } });
        expect(res.statusCode, authorization).toBe(401);
        expectErrorShape(res.json());
      }),
      { ...params, numRuns: 500 },
    );
  }, 70_000);
});
