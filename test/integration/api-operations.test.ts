// /health, /ready, /openapi.json and /docs: what operators and client generators rely on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { postJson } from '../helpers/api.js';
import { expectErrorShape } from '../helpers/errors.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

let sys: TestSystem;

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0 });
});
afterAll(async () => {
  await sys?.close();
});

type JsonObject = { [k: string]: unknown };
const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

const JOB_FIELDS = [
  'id', 'tenantId', 'type', 'status', 'priority', 'payload', 'tags', 'attempts', 'maxAttempts', 'workerId', 'progress',
  'result', 'lastError', 'webhookUrl', 'runAt', 'createdAt', 'startedAt', 'completedAt', 'durationMs',
];
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every $ref in a document, with where it was found. */
function refs(v: unknown, at = '#'): Array<{ ref: string; at: string }> {
  if (Array.isArray(v)) return v.flatMap((x, i) => refs(x, `${at}/${i}`));
  if (!isObject(v)) return [];
  return Object.entries(v).flatMap(([k, x]) => (k === '$ref' && typeof x === 'string' ? [{ ref: x, at }] : refs(x, `${at}/${k}`)));
}

function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), doc);
}

/** Keywords of OpenAPI 3.0 schemas that 3.1 (JSON Schema 2020-12) dropped. */
function legacyKeywords(v: unknown, at = '#'): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => legacyKeywords(x, `${at}/${i}`));
  if (!isObject(v)) return [];
  const here = 'nullable' in v && typeof v.nullable === 'boolean' ? [`${at}/nullable`] : [];
  return [...here, ...Object.entries(v).flatMap(([k, x]) => legacyKeywords(x, `${at}/${k}`))];
}

describe('/health', () => {
  it('answers 200 without a token', async () => {
    const res = await sys.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });
});

describe('/ready', () => {
  it('answers 200 with both checks up, from the first call after start', async () => {
    const res = await sys.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { postgres: 'up', redis: 'up' } });
  });
});

describe('/openapi.json', () => {
  let doc: JsonObject;

  beforeAll(async () => {
    const res = await sys.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.json() as JsonObject;
  });

  it('is an OpenAPI 3.1 document with info and paths', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(isObject(doc.paths)).toBe(true);
    expect(Object.keys(doc).every((k) => ['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks', 'components', 'security', 'tags', 'externalDocs'].includes(k) || k.startsWith('x-'))).toBe(true);
  });

  it('has well-formed operations: responses keyed by status, path parameters declared', () => {
    const paths = doc.paths as JsonObject;
    expect(Object.keys(paths).length).toBeGreaterThan(0);
    for (const [path, item] of Object.entries(paths)) {
      expect(path.startsWith('/'), path).toBe(true);
      expect(isObject(item), path).toBe(true);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item as JsonObject)) {
        if (!HTTP_METHODS.includes(method)) continue;
        expect(isObject(op), `${method} ${path}`).toBe(true);
        const operation = op as JsonObject;
        expect(isObject(operation.responses), `${method} ${path}`).toBe(true);
        for (const code of Object.keys(operation.responses as JsonObject)) expect(code, `${method} ${path}`).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
        const params = (operation.parameters ?? []) as Array<{ in: string; name: string; required?: boolean }>;
        for (const name of templated) {
          expect(params.find((p) => p.in === 'path' && p.name === name)?.required, `${method} ${path} {${name}}`).toBe(true);
        }
      }
    }
  });

  it('resolves every $ref and uses no 3.0-only keywords', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(0);
    for (const { ref, at } of all) expect(resolvePointer(doc, ref), `${ref} at ${at}`).toBeDefined();
    expect(legacyKeywords(doc)).toEqual([]);
  });

  it('documents POST and GET of /v1/enrichment/jobs with the Job schema', () => {
    const paths = doc.paths as Record<string, Record<string, JsonObject>>;
    const post = paths['/v1/enrichment/jobs']?.post;
    expect(post).toBeDefined();
    expect(JSON.stringify(post?.requestBody)).toContain('"type"');
    expect(isObject(paths['/v1/enrichment/jobs/{id}']?.get)).toBe(true);
    const created = (post?.responses as Record<string, JsonObject>)['202'];
    expect(JSON.stringify(created)).toContain('#/components/schemas/Job"');
  });

  it('has a Job schema with every field of the contract, all required', () => {
    const job = resolvePointer(doc, '#/components/schemas/Job') as { properties: JsonObject; required: string[] };
    expect(Object.keys(job.properties).sort()).toEqual([...JOB_FIELDS].sort());
    expect([...job.required].sort()).toEqual([...JOB_FIELDS].sort());
  });

  it('describes a real job: its keys are exactly the schema\'s', async () => {
    const res = await postJson<Job>(sys.app, '/v1/enrichment/jobs', await sys.token(), { type: 'test_job' });
    expect(res.status).toBe(202);
    expect(Object.keys(res.body).sort()).toEqual([...JOB_FIELDS].sort());
  });

  it('has an Error schema with the contract shape', () => {
    const err = resolvePointer(doc, '#/components/schemas/Error') as { properties: { error: { required: string[] } } };
    expect([...err.properties.error.required].sort()).toEqual(['code', 'details', 'message']);
  });
});

describe('/docs', () => {
  it('answers with the viewer (200, or a redirect to it)', async () => {
    let res = await sys.app.inject({ method: 'GET', url: '/docs' });
    if (res.statusCode >= 300 && res.statusCode < 400) {
      const location = String(res.headers.location);
      res = await sys.app.inject({ method: 'GET', url: location.startsWith('/') ? location : `/docs/${location}` });
    }
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toMatch(/swagger/i);
  });
});

describe('unknown routes and malformed URLs', () => {
  it('answer in the error shape', async () => {
    const notFound = await sys.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(notFound.statusCode).toBe(404);
    expectErrorShape(notFound.json());
    const token = await sys.token();
    const badEscape = await sys.app.inject({ method: 'GET', url: '/v1/enrichment/jobs/%zz', headers: { authorization: `Bearer ${token}` } });
    expect(badEscape.statusCode).toBe(400);
    expectErrorShape(badEscape.json());
  });
});

describe('job types from the registry', () => {
  it('lists every registered type with its defaults and payload schema', async () => {
    const token = await sys.token();
    const res = await sys.app.inject({ method: 'GET', url: '/v1/enrichment/job-types', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { items: { name: string; defaults: { maxAttempts: number }; payloadSchema: { properties?: Record<string, unknown> } }[] };
    expect(body.items.map((t) => t.name).sort()).toEqual(sys.services.registry.names());
    const listType = body.items.find((t) => t.name === 'list_enrichment')!;
    expect(Object.keys(listType.payloadSchema.properties ?? {})).toEqual(expect.arrayContaining(['listId', 'planId', 'chunkSize']));
    expect(listType.defaults.maxAttempts).toBe(3);
  });

  it('puts each payload schema in the OpenAPI components', async () => {
    const doc = (await sys.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { components: { schemas: Record<string, unknown> } };
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['TestJobPayload', 'ListEnrichmentPayload']));
  });

  it('answers 401 without a token', async () => {
    const res = await sys.app.inject({ method: 'GET', url: '/v1/enrichment/job-types' });
    expect(res.statusCode).toBe(401);
  });
});
