// POST/GET /v1/enrichment/plans (and the /api alias): validation naming the field path, pages, tenancy, getPlan.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/transaction.js';
import { getPlan } from '../../src/lists/plans.js';
import { getJson, postJson } from '../helpers/api.js';
import { type ErrorBody, detailPaths, expectErrorShape } from '../helpers/errors.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

interface Plan {
  id: string;
  name: string;
  steps: { type: string; options: Record<string, unknown> }[];
  errorThreshold: number;
  createdAt: string;
}

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

const create = (body: unknown, auth = token, base = '/v1/enrichment') => postJson<Plan | ErrorBody>(sys.app, `${base}/plans`, auth, body);

describe('POST /v1/enrichment/plans', () => {
  it('answers 201 with the plan, option defaults filled and errorThreshold defaulting to 1', async () => {
    const res = await create({
      name: ' scoring ',
      steps: [{ type: 'rpc_score', options: { rpcThreshold: 80, wpcThreshold: 40 } }, { type: 'email_validation' }, { type: 'phone_normalization', options: { defaultCountry: 'GB' } }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const plan = res.body as Plan;
    expect(plan).toEqual({
      id: expect.any(String),
      name: 'scoring',
      steps: [
        { type: 'rpc_score', options: { rpcThreshold: 80, wpcThreshold: 40 } },
        { type: 'email_validation', options: {} },
        { type: 'phone_normalization', options: { defaultCountry: 'GB' } },
      ],
      errorThreshold: 1,
      createdAt: expect.any(String),
    });
    expect(res.headers.location).toBe(`/v1/enrichment/plans/${plan.id}`);
    const read = await getJson<Plan>(sys.app, `/v1/enrichment/plans/${plan.id}`, token);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(plan);
  });

  it('keeps a given errorThreshold', async () => {
    const res = await create({ name: 'strict', steps: [{ type: 'company_domain' }], errorThreshold: 0.05 });
    expect(res.status).toBe(201);
    expect((res.body as Plan).errorThreshold).toBe(0.05);
  });

  it.each([
    ['an unknown step type', { name: 'p', steps: [{ type: 'nope' }] }, ['steps.0.type']],
    ['a threshold out of range', { name: 'p', steps: [{ type: 'email_validation' }, { type: 'rpc_score', options: { rpcThreshold: 101 } }] }, ['steps.1.options.rpcThreshold']],
    ['wpcThreshold above rpcThreshold', { name: 'p', steps: [{ type: 'rpc_score', options: { rpcThreshold: 50, wpcThreshold: 60 } }] }, ['steps.0.options.wpcThreshold']],
    ['an unknown option', { name: 'p', steps: [{ type: 'email_validation', options: { strict: true } }] }, ['steps.0.options.strict']],
    ['a bad defaultCountry', { name: 'p', steps: [{ type: 'phone_normalization', options: { defaultCountry: 'Atlantis' } }] }, ['steps.0.options.defaultCountry']],
    ['a step twice', { name: 'p', steps: [{ type: 'rpc_score' }, { type: 'rpc_score' }] }, ['steps.1.type']],
    ['no steps', { name: 'p', steps: [] }, ['steps']],
    ['errorThreshold above 1', { name: 'p', steps: [{ type: 'rpc_score' }], errorThreshold: 1.5 }, ['errorThreshold']],
    ['a blank name', { name: '  ', steps: [{ type: 'rpc_score' }] }, ['name']],
    ['an unknown top-level key', { name: 'p', steps: [{ type: 'rpc_score' }], listId: 'x' }, ['listId']],
  ])('refuses %s with 400 naming the path', async (_label, body, paths) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    expectErrorShape(res.body);
    expect(res.body.error.code).toBe('validation_error');
    expect(detailPaths(res.body)).toEqual(paths);
  });
});

describe('reading plans', () => {
  let owner: string;
  let ownerToken: string;
  const ids: string[] = [];

  beforeAll(async () => {
    owner = randomUUID();
    ownerToken = await sys.token({ tenantId: owner });
    for (const name of ['one', 'two', 'three']) {
      const res = await create({ name, steps: [{ type: 'email_validation' }] }, ownerToken);
      ids.push((res.body as Plan).id);
    }
  });

  it('pages plans newest first', async () => {
    const first = await getJson<{ items: Plan[]; nextCursor: string | null }>(sys.app, '/v1/enrichment/plans?limit=2', ownerToken);
    expect(first.status).toBe(200);
    expect(first.body.items.map((p) => p.name)).toEqual(['three', 'two']);
    const second = await getJson<{ items: Plan[]; nextCursor: string | null }>(sys.app, `/v1/enrichment/plans?limit=2&cursor=${first.body.nextCursor}`, ownerToken);
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: ids[0], name: 'one' })], nextCursor: null });
  });

  it('answers under the /api/enrichment alias too, which the OpenAPI document does not list', async () => {
    expect((await getJson<Plan>(sys.app, `/api/enrichment/plans/${ids[1]}`, ownerToken)).body).toMatchObject({ id: ids[1], name: 'two' });
    const doc = (await sys.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/enrichment/plans', '/v1/enrichment/plans/{id}', '/v1/lists', '/v1/lists/{id}/entries']));
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/api/enrichment/plans'))).toBe(false);
  });

  it('another tenant gets 404 and an empty page; a non-UUID id is 400', async () => {
    const other = await sys.token();
    expect((await getJson(sys.app, `/v1/enrichment/plans/${ids[0]}`, other)).status).toBe(404);
    expect((await getJson(sys.app, '/v1/enrichment/plans', other)).body).toEqual({ items: [], nextCursor: null });
    expect((await getJson(sys.app, '/v1/enrichment/plans/nope', ownerToken)).status).toBe(400);
    expect((await getJson(sys.app, '/v1/enrichment/plans?cursor=zzz', ownerToken)).status).toBe(400);
  });

  it('getPlan gives the runner the parsed steps, and nothing for another tenant', async () => {
    const { pool } = sys.services;
    const role = sys.config.databaseAppRole;
    const plan = await withTenant(pool, role, owner, (tx) => getPlan(tx, ids[2]!));
    expect(plan).toEqual({ id: ids[2], name: 'three', steps: [{ type: 'email_validation', options: {} }], errorThreshold: 1 });
    expect(await withTenant(pool, role, randomUUID(), (tx) => getPlan(tx, ids[2]!))).toBeNull();
  });
});
