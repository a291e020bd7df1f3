// SSRF refusals with WEBHOOK_ALLOW_PRIVATE=false: at registration (endpoints, a job's webhookUrl)
// and at delivery, where nothing reaches an internal address.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

let sys: TestSystem;
let server: Server;
let port: number;
let hits = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    hits++;
    res.writeHead(200).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  sys = await startTestSystem({ env: { WEBHOOK_ALLOW_PRIVATE: 'false' } });
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await sys?.close();
});

const INTERNAL = [
  'http://hooks.example.com/h',
  'https://127.0.0.1/h',
  'https://2130706433/h',
  'https://0x7f000001/h',
  'https://0177.0.0.1/h',
  'https://[::1]/h',
  'https://[::ffff:127.0.0.1]/h',
  'https://169.254.169.254/latest/meta-data/',
  'https://[fd00:ec2::254]/h',
  'https://metadata.google.internal/computeMetadata/v1/',
  'https://10.0.0.8/h',
  'https://100.64.1.1/h',
  'https://localhost/h',
];

describe('webhook SSRF refusals', () => {
  it.each(INTERNAL)('refuses %s as an endpoint and as a job webhookUrl', async (url) => {
    const token = await sys.token();
    const endpoint = await postJson(sys.app, '/v1/webhooks/endpoints', token, { url });
    expect(endpoint.status).toBe(400);
    expect(JSON.stringify(endpoint.body)).toContain('"path":"url"');
    const job = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', webhookUrl: url });
    expect(job.status).toBe(400);
    expect(JSON.stringify(job.body)).toContain('"path":"webhookUrl"');
  });

  it('accepts a public https endpoint', async () => {
    const res = await postJson(sys.app, '/v1/webhooks/endpoints', await sys.token(), { url: 'https://hooks.example.com/enrichd', events: ['job.failed'] });
    expect(res.status).toBe(201);
  });

  it('refuses at delivery a name that resolves to loopback, recording the attempt, sending nothing', async () => {
    const token = await sys.token();
    const tenantId = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { tenant_id: string };
    // A job whose webhookUrl was accepted when its name pointed elsewhere, and now resolves to 127.0.0.1.
    const job = await postJson<{ id: string }>(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', webhookUrl: 'https://hooks.example.com/h', delayMs: 1000 });
    expect(job.status).toBe(202); // scheduled: the change below lands before it runs
    await sys.services.pool.query('UPDATE enrichment_jobs SET webhook_url = $2::text WHERE id = $1::uuid AND tenant_id = $3::uuid', [job.body.id, `https://localhost:${port}/h`, tenantId.tenant_id]);
    const d = await waitFor(async () => {
      const items = (await getJson<{ items: { id: string; url: string; attemptCount: number }[] }>(sys.app, `/v1/webhooks/deliveries?jobId=${job.body.id}`, token)).body.items;
      return items.find((i) => i.url.includes('localhost') && i.attemptCount >= 1);
    });
    const one = await getJson<{ attempts: { statusCode: number | null; error?: string }[] }>(sys.app, `/v1/webhooks/deliveries/${d.id}`, token);
    expect(one.body.attempts[0]).toMatchObject({ statusCode: null });
    expect(one.body.attempts[0]!.error).toMatch(/refused/);
    expect(hits).toBe(0);
  });
});
