// GET /v1/enrichment/jobs/metrics: the tenant's counts, depth, series, rates and durations from
// PostgreSQL, the workers alive system-wide, another tenant's jobs left out, and the window checked.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

interface JobMetrics {
  window: number;
  counts: Record<string, number>;
  queueDepth: { waiting: number; active: number; delayed: number };
  throughput: { last5m: number; last60m: number };
  series: { at: string; completed: number; failed: number }[];
  successRate: number | null;
  errorRate: number | null;
  durations: Record<string, { p50: number; p95: number }>;
  workers: { id: string; host: string; pid: number; startedAt: string; lastHeartbeatAt: string; inFlight: number; processed: number }[];
}

let sys: TestSystem;
const tenantA = randomUUID();
let tokenA: string;

beforeAll(async () => {
  sys = await startTestSystem({ workers: 1 });
  tokenA = await sys.token({ tenantId: tenantA });
  const tokenB = await sys.token();
  const submit = async (token: string, body: unknown) => {
    const res = await postJson(sys.app, '/v1/enrichment/jobs', token, body);
    expect(res.status).toBe(202);
    return res.body.id;
  };
  const ended = [
    await submit(tokenA, { type: 'test_job', payload: { sleepMs: 20 } }),
    await submit(tokenA, { type: 'test_job', payload: { sleepMs: 40 } }),
    await submit(tokenA, { type: 'test_job', payload: { fail: 'always' }, maxAttempts: 1 }),
    // Another tenant's: counted nowhere in A's figures.
    await submit(tokenB, { type: 'test_job', payload: {} }),
    await submit(tokenB, { type: 'test_job', payload: { fail: 'always' }, maxAttempts: 1 }),
  ];
  await submit(tokenA, { type: 'test_job', payload: {}, delayMs: 3_600_000 });
  await waitFor(async () => {
    const { rows } = await sys.services.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM enrichment_jobs WHERE id = ANY($1::uuid[]) AND status IN ('completed', 'failed')", [ended]);
    return rows[0]!.n === ended.length;
  }, 20_000);
});
afterAll(async () => {
  await sys?.close();
});

describe('GET /v1/enrichment/jobs/metrics', () => {
  it("answers the tenant's counts, depth, series, rates and durations", async () => {
    const res = await getJson<JobMetrics>(sys.app, '/v1/enrichment/jobs/metrics?window=5', tokenA);
    expect(res.status).toBe(200);
    const m = res.body;
    expect(m.window).toBe(5);
    expect(m.counts).toEqual({ pending: 0, scheduled: 1, running: 0, retrying: 0, completed: 2, failed: 1, cancelled: 0 });
    expect(m.queueDepth).toEqual({ waiting: 0, active: 0, delayed: 1 });
    expect(m.series).toHaveLength(5);
    // One row per minute, oldest first, ending in the current minute.
    const minutes = m.series.map((s) => Date.parse(s.at));
    for (let i = 1; i < minutes.length; i++) expect(minutes[i]! - minutes[i - 1]!).toBe(60_000);
    expect(Date.now() - minutes[4]!).toBeLessThan(60_000 + 5_000);
    expect(m.series.reduce((n, s) => n + s.completed, 0)).toBe(2);
    expect(m.series.reduce((n, s) => n + s.failed, 0)).toBe(1);
    expect(m.successRate).toBeCloseTo(2 / 3);
    expect(m.errorRate).toBeCloseTo(1 / 3);
    expect(m.throughput.last5m).toBeCloseTo(3 / 5);
    expect(m.throughput.last60m).toBeCloseTo(3 / 60);
    expect(Object.keys(m.durations)).toEqual(['test_job']);
    const d = m.durations.test_job!;
    expect(d.p50).toBeGreaterThanOrEqual(20);
    expect(d.p95).toBeGreaterThanOrEqual(d.p50);
  });

  it('lists the workers alive, system-wide', async () => {
    const res = await getJson<JobMetrics>(sys.app, '/v1/enrichment/jobs/metrics', tokenA);
    expect(res.status).toBe(200);
    expect(res.body.series).toHaveLength(60);
    const mine = res.body.workers.find((w) => w.id === sys.parts.workers[0]!.id);
    expect(mine).toMatchObject({ pid: process.pid, inFlight: 0 });
    expect(Date.parse(mine!.lastHeartbeatAt)).toBeGreaterThanOrEqual(Date.parse(mine!.startedAt));
    // A stopped worker and a silent one (no heartbeat for 3 intervals) are not listed.
    await sys.services.pool.query(
      "INSERT INTO enrichment_workers (id, host, pid, last_heartbeat_at, stopped_at) VALUES ('gone:1:a', 'gone', 1, now(), now()), ('silent:2:b', 'silent', 2, now() - interval '1 hour', NULL)",
    );
    const again = await getJson<JobMetrics>(sys.app, '/v1/enrichment/jobs/metrics', tokenA);
    expect(again.body.workers.map((w) => w.host)).not.toContain('gone');
    expect(again.body.workers.map((w) => w.host)).not.toContain('silent');
  });

  it('answers zeros and null rates for a tenant with no jobs, and under the /api alias', async () => {
    const res = await getJson<JobMetrics>(sys.app, '/api/enrichment/jobs/metrics?window=1', await sys.token());
    expect(res.status).toBe(200);
    expect(Object.values(res.body.counts)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(res.body.series).toEqual([{ at: expect.any(String), completed: 0, failed: 0 }]);
    expect(res.body.successRate).toBeNull();
    expect(res.body.errorRate).toBeNull();
    expect(res.body.durations).toEqual({});
    expect(res.body.throughput).toEqual({ last5m: 0, last60m: 0 });
  });

  it('refuses a window outside 1..1440 minutes, naming it', async () => {
    for (const w of ['0', '1441', 'abc', '1.5', '-3']) {
      const res = await getJson<{ error: { code: string; details: { path: string }[] } }>(sys.app, `/v1/enrichment/jobs/metrics?window=${w}`, tokenA);
      expect(res.status, w).toBe(400);
      expect(res.body.error.details.map((d) => d.path)).toEqual(['window']);
    }
    expect((await getJson(sys.app, '/v1/enrichment/jobs/metrics?window=1440', tokenA)).status).toBe(200);
  });

  it('needs a token', async () => {
    const res = await sys.app.inject({ method: 'GET', url: '/v1/enrichment/jobs/metrics' });
    expect(res.statusCode).toBe(401);
  });
});
