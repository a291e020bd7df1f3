// The delivery loop wakes when deliveries commit (0010_webhook_wakeup.sql's NOTIFY), drains a
// burst at the speed of its sends, and keeps both across a dropped session. POLL_INTERVAL is
// 10 s here, so anything that waited for the poll would take seconds, not milliseconds.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookDeliveryLoop } from '../../src/events/webhooks/delivery-loop.js';
import type { SendResult } from '../../src/events/webhooks/send.js';
import type { Job } from '../../src/jobs/job.js';
import { postJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

const POLL_INTERVAL_MS = 10_000;
/** well under the poll interval: the old poll-only loop fails every bound below */
const PROMPT_MS = 1000;

interface Receipt {
  path: string;
  type: string;
  jobId: string;
  /** the event's time, as the body says */
  eventAt: number;
  receivedAt: number;
}

let sys: TestSystem;
let server: Server;
let base: string;
const receipts: Receipt[] = [];
// per path: how long the receiver takes to answer
const delays = new Map<string, number>();
let open = 0;
let maxOpen = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '/';
      const msg = JSON.parse(body) as { type: string; timestamp: string; data: { job: Job } };
      receipts.push({ path, type: msg.type, jobId: msg.data.job.id, eventAt: Date.parse(msg.timestamp), receivedAt: Date.now() });
      setTimeout(() => {
        open--;
        res.writeHead(200).end();
      }, delays.get(path) ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sys = await startTestSystem({ env: { WEBHOOK_ALLOW_PRIVATE: 'true', POLL_INTERVAL: String(POLL_INTERVAL_MS), MAX_CONCURRENT_JOBS: '20' } });
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await sys?.close();
});

async function submit(token: string, body: unknown): Promise<Job> {
  const res = await postJson<Job>(sys.app, '/v1/enrichment/jobs', token, body);
  expect(res.status).toBe(202);
  return res.body;
}

const receiptsAt = (path: string) => receipts.filter((r) => r.path === path);

/** The backend that holds the delivery lock (7_414_220_006 = classid 1, objid 3_119_252_710). */
async function deliveryLockBackend(): Promise<number | undefined> {
  const { rows } = await sys.services.pool.query<{ pid: number }>(
    `SELECT pid FROM pg_locks
     WHERE locktype = 'advisory' AND classid = 1 AND objid = 3119252710 AND objsubid = 1 AND granted
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return rows[0]?.pid;
}

describe('webhook delivery wake-up', () => {
  it('delivers a completion well before the poll interval', async () => {
    const token = await sys.token();
    for (let i = 0; i < 3; i++) {
      const job = await submit(token, { type: 'test_job', payload: {}, webhookUrl: `${base}/one` });
      const r = await waitFor(async () => receiptsAt('/one').find((x) => x.jobId === job.id), 15_000, 10);
      expect(r.type).toBe('job.completed');
      expect(r.receivedAt - r.eventAt).toBeLessThan(PROMPT_MS);
    }
  });

  it('delivers a burst of 100 completions, each within a second of its completion', async () => {
    const token = await sys.token();
    const jobs = await Promise.all(Array.from({ length: 100 }, () => submit(token, { type: 'test_job', payload: {}, webhookUrl: `${base}/burst` })));
    const ids = new Set(jobs.map((j) => j.id));
    await waitFor(async () => receiptsAt('/burst').filter((r) => ids.has(r.jobId)).length >= 100, 30_000, 20);
    const lags = receiptsAt('/burst').map((r) => r.receivedAt - r.eventAt);
    expect(Math.max(...lags)).toBeLessThan(PROMPT_MS);
  });

  it('drains 100 deliveries committed together, keeping to the concurrency limit', async () => {
    const token = await sys.token();
    // Scheduled an hour ahead, so no worker touches them; one bulk cancel commits 100 job.cancelled deliveries at once.
    const runAt = new Date(Date.now() + 3_600_000).toISOString();
    const jobs = await Promise.all(Array.from({ length: 100 }, () => submit(token, { type: 'test_job', payload: {}, runAt, webhookUrl: `${base}/drain` })));
    delays.set('/drain', 25);
    maxOpen = 0;
    const t0 = Date.now();
    const res = await postJson<{ results: { ok: boolean }[] }>(sys.app, '/v1/enrichment/jobs/bulk', token, { jobIds: jobs.map((j) => j.id), action: 'cancel' });
    expect(res.status).toBe(200);
    expect(res.body.results.every((r) => r.ok)).toBe(true);
    await waitFor(async () => receiptsAt('/drain').length >= 100, 30_000, 10);
    const elapsed = Date.now() - t0;
    expect(new Set(receiptsAt('/drain').map((r) => r.jobId)).size).toBe(100);
    expect(receiptsAt('/drain').every((r) => r.type === 'job.cancelled')).toBe(true);
    // 100 / 16 claims: at one claim per poll that is 6 polls, a minute; drained, well under a second or two.
    expect(elapsed).toBeLessThan(2 * PROMPT_MS);
    expect(maxOpen).toBeLessThanOrEqual(16);
    expect(maxOpen).toBeGreaterThan(1);
  });

  it("wakes for job.progress from an outside runner's report", async () => {
    const token = await sys.token();
    const ep = await postJson(sys.app, '/v1/webhooks/endpoints', token, { url: `${base}/progress`, events: ['job.progress'] });
    expect(ep.status).toBe(201);
    const job = await submit(token, { type: 'test_job', payload: { sleepMs: 4000 } });
    await waitFor(async () => (await sys.services.pool.query('SELECT 1 FROM enrichment_jobs WHERE id = $1::uuid AND status = $2::text', [job.id, 'running'])).rowCount === 1);
    const t0 = Date.now();
    const progress = await postJson(sys.app, '/v1/enrichment/webhook', token, { jobId: job.id, event: 'job.progress', data: { processed: 1, total: 2 } });
    expect(progress.status).toBe(200);
    const r = await waitFor(async () => receiptsAt('/progress').find((x) => x.jobId === job.id), 15_000, 10);
    expect(r.type).toBe('job.progress');
    expect(r.receivedAt - t0).toBeLessThan(PROMPT_MS);
  });

  it('takes the lock and the wake-ups back at once when its session is killed', async () => {
    const token = await sys.token();
    const before = await deliveryLockBackend();
    expect(before).toBeDefined();
    const admin = await sys.services.pool.query<{ ok: boolean }>('SELECT pg_terminate_backend($1::int) AS ok', [before]);
    expect(admin.rows[0]?.ok).toBe(true);
    const after = await waitFor(async () => {
      const pid = await deliveryLockBackend();
      return pid !== undefined && pid !== before ? pid : null;
    }, 5_000, 10);
    expect(after).not.toBe(before);
    const job = await submit(token, { type: 'test_job', payload: {}, webhookUrl: `${base}/again` });
    const r = await waitFor(async () => receiptsAt('/again').find((x) => x.jobId === job.id), 15_000, 10);
    expect(r.receivedAt - r.eventAt).toBeLessThan(PROMPT_MS);
  });

  it('a second loop does not send while the first holds the lock', async () => {
    const sent: string[] = [];
    const second = new WebhookDeliveryLoop({
      pool: sys.services.pool,
      log: pino({ level: 'silent' }),
      pollIntervalMs: 50,
      retryBaseDelayMs: 50,
      allowPrivate: true,
      send: async (url): Promise<SendResult> => {
        sent.push(url);
        return { statusCode: 200, error: null, durationMs: 0 };
      },
    });
    second.start();
    try {
      const token = await sys.token();
      const jobs = await Promise.all(Array.from({ length: 10 }, () => submit(token, { type: 'test_job', payload: {}, webhookUrl: `${base}/second` })));
      const ids = new Set(jobs.map((j) => j.id));
      await waitFor(async () => receiptsAt('/second').filter((r) => ids.has(r.jobId)).length >= 10, 15_000, 10);
      expect(sent).toEqual([]);
    } finally {
      await second.stop();
    }
  });
});
