// Outgoing webhooks end to end: a loopback receiver, signatures, retries, a job's own webhookUrl,
// a slow receiver beside job processing, and the outside runner's endpoint.
import { type IncomingHttpHeaders, createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { getJson, postJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
interface Delivery {
  id: string;
  url: string;
  event: string;
  status: string;
  attemptCount: number;
  endpointId: string | null;
  attempts?: { statusCode: number | null; durationMs: number; error?: string }[];
}

let sys: TestSystem;
let server: Server;
let base: string;
const received: Received[] = [];
// per path: what to answer (a status, or 'hang' to never answer)
const script = new Map<string, (number | 'hang')[]>();
const hanging: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body });
      const next = script.get(path)?.shift() ?? 200;
      if (next === 'hang') return void hanging.push(res);
      res.writeHead(next).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sys = await startTestSystem({ env: { WEBHOOK_ALLOW_PRIVATE: 'true', MAX_CONCURRENT_JOBS: '5' } });
});
afterAll(async () => {
  for (const res of hanging) res.destroy();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await sys?.close();
});

async function submit(token: string, body: unknown): Promise<Job> {
  const res = await postJson(sys.app, '/v1/enrichment/jobs', token, body);
  expect(res.status).toBe(202);
  return res.body;
}

async function createEndpoint(token: string, path: string, events?: string[]): Promise<{ id: string; secret: string }> {
  const res = await postJson<{ id: string; secret: string; events: string[] }>(sys.app, '/v1/webhooks/endpoints', token, { url: base + path, ...(events ? { events } : {}) });
  expect(res.status).toBe(201);
  expect(res.body.secret).toMatch(/^whsec_/);
  return res.body;
}

const deliveriesOf = async (token: string, jobId: string) =>
  (await getJson<{ items: Delivery[] }>(sys.app, `/v1/webhooks/deliveries?jobId=${jobId}`, token)).body.items;

describe('webhooks', () => {
  it('documents its routes in the OpenAPI document', async () => {
    const res = await sys.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const paths = Object.keys((res.json() as { paths: Record<string, unknown> }).paths);
    for (const p of ['/v1/webhooks/endpoints', '/v1/webhooks/deliveries/{id}', '/v1/webhooks/secret', '/v1/enrichment/webhook', '/v1/enrichment/jobs/{id}/deliveries']) expect(paths).toContain(p);
  });

  it('signs, retries after two 500s, then delivers, recording every attempt', async () => {
    const token = await sys.token();
    const endpoint = await createEndpoint(token, '/retry', ['job.completed']);
    const listed = await getJson<{ items: Record<string, unknown>[] }>(sys.app, '/v1/webhooks/endpoints', token);
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0]).not.toHaveProperty('secret');
    script.set('/retry', [500, 500, 200]);

    const job = await submit(token, { type: 'test_job', payload: { note: 'hi' } });
    const delivered = await waitFor(async () => {
      const d = (await deliveriesOf(token, job.id))[0];
      return d?.status === 'delivered' ? d : null;
    }, 20_000);
    expect(delivered).toMatchObject({ event: 'job.completed', endpointId: endpoint.id, attemptCount: 3 });

    const hits = received.filter((r) => r.path === '/retry');
    expect(hits).toHaveLength(3);
    // One message, retried: the same webhook-id each time, each attempt verifies.
    expect(new Set(hits.map((h) => h.headers['webhook-id']))).toEqual(new Set([delivered.id]));
    const wh = new Webhook(endpoint.secret);
    for (const h of hits) {
      const msg = wh.verify(h.body, h.headers as Record<string, string>) as { type: string; data: { job: Job } };
      expect(msg.type).toBe('job.completed');
      expect(msg.data.job).toMatchObject({ id: job.id, status: 'completed' });
    }

    const one = await getJson<Delivery>(sys.app, `/v1/webhooks/deliveries/${delivered.id}`, token);
    expect(one.body.attempts!.map((a) => a.statusCode)).toEqual([500, 500, 200]);
    const byJob = await getJson<{ items: Delivery[] }>(sys.app, `/v1/enrichment/jobs/${job.id}/deliveries`, token);
    expect(byJob.body.items.map((d) => d.id)).toEqual([delivered.id]);
    // Another tenant sees none of it.
    const other = await sys.token();
    expect((await getJson(sys.app, `/v1/webhooks/deliveries/${delivered.id}`, other)).status).toBe(404);
    expect((await getJson(sys.app, `/v1/enrichment/jobs/${job.id}/deliveries`, other)).status).toBe(404);
  });

  it("sends job.completed to the job's own webhookUrl, signed with the tenant's default secret", async () => {
    const token = await sys.token();
    const job = await submit(token, { type: 'test_job', payload: {}, webhookUrl: `${base}/own` });
    const d = await waitFor(async () => {
      const items = await deliveriesOf(token, job.id);
      return items.find((i) => i.status === 'delivered');
    });
    expect(d).toMatchObject({ event: 'job.completed', endpointId: null, url: `${base}/own` });
    const { secret } = (await getJson<{ secret: string }>(sys.app, '/v1/webhooks/secret', token)).body;
    const hit = received.find((r) => r.path === '/own' && r.headers['webhook-id'] === d.id)!;
    expect((new Webhook(secret).verify(hit.body, hit.headers as Record<string, string>) as { type: string }).type).toBe('job.completed');
  });

  it('a slow receiver delays no job', async () => {
    const token = await sys.token();
    await createEndpoint(token, '/slow');
    script.set('/slow', Array.from({ length: 50 }, () => 'hang' as const));
    const started = Date.now();
    const jobs = await Promise.all([1, 2, 3, 4].map(() => submit(token, { type: 'test_job', payload: {} })));
    for (const job of jobs) {
      await waitFor(async () => (await getJson(sys.app, `/v1/enrichment/jobs/${job.id}`, token)).body.status === 'completed');
    }
    expect(Date.now() - started).toBeLessThan(5000);
    // The receiver has the started events in hand and answers none of them.
    await waitFor(async () => received.filter((r) => r.path === '/slow').length >= 2);
    const pending = (await getJson<{ items: Delivery[] }>(sys.app, '/v1/webhooks/deliveries?status=pending&limit=100', token)).body.items;
    expect(pending.length).toBeGreaterThan(0);
  });

  it('deletes an endpoint, ending its pending deliveries', async () => {
    const token = await sys.token();
    const endpoint = await createEndpoint(token, '/gone');
    const del = await sys.app.inject({ method: 'DELETE', url: `/v1/webhooks/endpoints/${endpoint.id}`, headers: { authorization: `Bearer ${token}` } });
    expect(del.statusCode).toBe(200);
    const again = await sys.app.inject({ method: 'DELETE', url: `/v1/webhooks/endpoints/${endpoint.id}`, headers: { authorization: `Bearer ${token}` } });
    expect(again.statusCode).toBe(404);
    expect((await getJson<{ items: unknown[] }>(sys.app, '/v1/webhooks/endpoints', token)).body.items).toEqual([]);
  });

  it('takes reports from an outside runner on a running job, and refuses them otherwise', async () => {
    const token = await sys.token();
    const endpoint = await createEndpoint(token, '/runner', ['job.progress', 'job.completed', 'job.failed']);
    const job = await submit(token, { type: 'test_job', payload: { sleepMs: 4000 } });
    await waitFor(async () => (await getJson(sys.app, `/v1/enrichment/jobs/${job.id}`, token)).body.status === 'running');

    const progress = await postJson(sys.app, '/v1/enrichment/webhook', token, { jobId: job.id, event: 'job.progress', data: { processed: 5, total: 10 } });
    expect(progress.status).toBe(200);
    expect(progress.body.progress).toMatchObject({ processed: 5, total: 10 });
    const done = await postJson(sys.app, '/v1/enrichment/webhook', token, { jobId: job.id, event: 'job.completed', data: { answer: 42 } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', result: { answer: 42 } });

    const late = await postJson(sys.app, '/v1/enrichment/webhook', token, { jobId: job.id, event: 'job.failed', data: { message: 'boom' } });
    expect(late.status).toBe(409);
    expect(JSON.stringify(late.body)).toContain('completed');
    const provider = await postJson(sys.app, '/v1/enrichment/webhook?provider=hunter', token, { jobId: job.id, event: 'job.failed', data: { message: 'x' } });
    expect(provider.status).toBe(400);
    expect(JSON.stringify(provider.body)).toContain('provider');
    const bad = await postJson(sys.app, '/v1/enrichment/webhook', token, { jobId: job.id, event: 'job.progress', data: { processed: -1 } });
    expect(bad.status).toBe(400);
    const unknown = await postJson(sys.app, '/v1/enrichment/webhook', token, { jobId: '00000000-0000-4000-8000-000000000000', event: 'job.failed', data: { message: 'x' } });
    expect(unknown.status).toBe(404);

    const items = await waitFor(async () => {
      const all = await deliveriesOf(token, job.id);
      return all.length >= 2 && all.every((d) => d.status === 'delivered') ? all : null;
    });
    expect(items.map((d) => d.event).sort()).toEqual(['job.completed', 'job.progress']);
    const wh = new Webhook(endpoint.secret);
    for (const h of received.filter((r) => r.path === '/runner')) expect(wh.verify(h.body, h.headers as Record<string, string>)).toBeTruthy();
  });
});
