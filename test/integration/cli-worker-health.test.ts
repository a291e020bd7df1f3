// `enrichd worker` with HEALTH_CHECK_PORT: /health, /ready and /metrics on that port, served once
// by the supervisor with WORKER_COUNT=2 and merging its children's metrics; SIGTERM exits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, freePort, killAllChildren, spawnEnrichd, waitForPort } from '../helpers/processes.js';
import { createTestDatabase, deletePrefix, testPrefix, waitFor } from '../helpers/system.js';
import { REDIS_URL, TEST_APP_ROLE } from '../helpers/urls.js';

const prefix = testPrefix('wh');
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let port: number;
let proc: Child;

beforeAll(async () => {
  db = await createTestDatabase('wh');
  port = await freePort();
  proc = spawnEnrichd(['worker'], {
    DATABASE_URL: db.url,
    DATABASE_APP_ROLE: TEST_APP_ROLE,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    HEALTH_CHECK_PORT: String(port),
    HEALTH_CHECK_INTERVAL: '200',
    WORKER_COUNT: '2',
    GRACEFUL_SHUTDOWN_TIMEOUT: '2000',
    LOG_LEVEL: 'info',
  });
  await waitForPort(port, 20_000);
});
afterAll(async () => {
  await killAllChildren();
  await deletePrefix(REDIS_URL, prefix);
  await db?.drop();
});

const url = (path: string) => `http://127.0.0.1:${port}${path}`;

/** The value of an unlabelled sample line, or null when absent. */
function sample(text: string, name: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.slice(name.length + 1));
}

describe('enrichd worker with HEALTH_CHECK_PORT', () => {
  it('answers /health and /ready', async () => {
    const health = await fetch(url('/health'));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(url('/ready'));
    expect(ready.status).toBe(200);
  });

  it("answers /metrics once for the supervisor, with its children's heartbeats merged in", async () => {
    // Only the two children run workers: heartbeats in the parent's answer came from them.
    const text = await waitFor(async () => {
      const res = await fetch(url('/metrics'));
      const body = await res.text();
      return res.status === 200 && (sample(body, 'enrichd_worker_heartbeats_total') ?? 0) >= 4 ? body : null;
    }, 20_000);
    expect(text).toMatch(/^# TYPE enrichd_jobs_started_total counter$/m);
    expect(text).toMatch(/^enrichd_queue_depth\{state="waiting"\} \d+$/m);
    expect(sample(text, 'enrichd_worker_in_flight')).toBe(0);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    // Each family once: merged, not concatenated.
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
    // The children did not try to bind the same port.
    expect(proc.stdout.filter((l) => l.includes('EADDRINUSE'))).toEqual([]);
    expect(proc.logs().filter((l) => l.msg === 'health and metrics listening')).toHaveLength(1);
  });

  it('exits 0 on SIGTERM', async () => {
    const exit = await proc.stop(15_000);
    expect(exit, proc.output()).toEqual({ code: 0, signal: null });
  });
});
