// 20 identical requests with one Idempotency-Key, raced across two API processes on one database:
// exactly one job, one 202, and every answer names that job.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pool, createPool } from '../../src/db/pool.js';
import { signToken } from '../../src/api/token.js';
import { freePort, killAllChildren, spawnEnrichd } from '../helpers/processes.js';
import { createTestDatabase, deletePrefix, testPrefix } from '../helpers/system.js';
import { REDIS_URL, TEST_APP_ROLE, TEST_JWT_SECRET } from '../helpers/urls.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const prefix = testPrefix('idem');
const ports: number[] = [];

beforeAll(async () => {
  db = await createTestDatabase('idem');
  pool = createPool(db.url, 2);
  const env = {
    DATABASE_URL: db.url,
    DATABASE_APP_ROLE: TEST_APP_ROLE,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    POLL_INTERVAL: '200',
    LOG_LEVEL: 'info',
  };
  for (let i = 0; i < 2; i++) ports.push(await freePort());
  const apis = ports.map((port, i) => spawnEnrichd(['api'], { ...env, PORT: String(port) }, `api ${i + 1}`));
  await Promise.all(apis.map((a) => a.waitForLog('api listening')));
});
afterAll(async () => {
  await killAllChildren();
  await pool?.end();
  await deletePrefix(REDIS_URL, prefix);
  await db?.drop();
});

interface Answer {
  status: number;
  body: { id?: string; error?: { code: string; message: string; details?: { jobId?: string }[] } };
}

async function race(tenantId: string, key: string, body: unknown): Promise<Answer[]> {
  const token = await signToken(TEST_JWT_SECRET, { tenantId, ttl: '1h' });
  return Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const res = await fetch(`http://127.0.0.1:${ports[i % 2]}/v1/enrichment/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Answer['body'] };
    }),
  );
}

describe('Idempotency-Key across two API processes', () => {
  it('records one job for 20 identical concurrent requests', async () => {
    for (let round = 0; round < 3; round++) {
      const tenantId = randomUUID();
      const key = `race-${round}-${randomUUID()}`;
      const answers = await race(tenantId, key, { type: 'test_job', payload: { round } });

      const { rows } = await pool.query<{ id: string }>('SELECT id FROM enrichment_jobs WHERE tenant_id = $1::uuid', [tenantId]);
      expect(rows).toHaveLength(1);
      const id = rows[0]!.id;

      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 202), JSON.stringify(answers)).toHaveLength(1);
      for (const a of answers) {
        expect([200, 202, 409], JSON.stringify(a)).toContain(a.status);
        // A 409 is "the first is still in flight": it must still say which job that is.
        const named = a.status === 409 ? a.body.error?.details?.[0]?.jobId : a.body.id;
        expect(named, JSON.stringify(a)).toBe(id);
      }
    }
  });

  it('answers 422 on both processes when the key comes back with another body', async () => {
    const tenantId = randomUUID();
    const key = `reuse-${randomUUID()}`;
    const first = await race(tenantId, key, { type: 'test_job', payload: { v: 1 } });
    expect(first.filter((a) => a.status === 202)).toHaveLength(1);
    const second = await race(tenantId, key, { type: 'test_job', payload: { v: 2 } });
    for (const a of second) expect(a.status, JSON.stringify(a)).toBe(422);
    const { rows } = await pool.query('SELECT id FROM enrichment_jobs WHERE tenant_id = $1::uuid', [tenantId]);
    expect(rows).toHaveLength(1);
  });
});
