// `enrichd start` on a database that does not exist yet, as a new user runs it: the banner's curl
// line works, `enrichd submit --wait` follows a job to the end, and SIGTERM exits 0.
import { randomBytes } from 'node:crypto';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { type Child, freePort, killAllChildren, runEnrichd, spawnEnrichd } from '../helpers/processes.js';
import { deletePrefix, testPrefix } from '../helpers/system.js';
import { ADMIN_URL, REDIS_URL, TEST_APP_ROLE, databaseUrlFor } from '../helpers/urls.js';

const dbName = `enrichd_start_${inject('runId')}_${randomBytes(3).toString('hex')}`;
const prefix = testPrefix('start');
let port: number;
let proc: Child;
let banner: string;

beforeAll(async () => {
  port = await freePort();
  // No JWT_SECRET: start makes one for the run and prints it.
  proc = spawnEnrichd(['start'], {
    DATABASE_URL: databaseUrlFor(dbName),
    DATABASE_APP_ROLE: TEST_APP_ROLE,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    PORT: String(port),
    POLL_INTERVAL: '200',
    GRACEFUL_SHUTDOWN_TIMEOUT: '3000',
    LOG_LEVEL: 'info',
  });
  await proc.waitForLine(/^\s+curl /, 30_000);
  banner = proc.stdout.filter((l) => !l.startsWith('{')).join('\n');
});
afterAll(async () => {
  await killAllChildren();
  await deletePrefix(REDIS_URL, prefix);
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
});

/** The banner line after a label, e.g. "admin token:". */
function bannerValue(label: string): string {
  const line = banner.split('\n').find((l) => l.trim().startsWith(label));
  if (!line) throw new Error(`no "${label}" in the banner:\n${banner}`);
  return line.trim().slice(label.length).trim().split(/\s+/)[0]!;
}

/** Reads a curl command line the way a POSIX shell would split its single-quoted words. */
function parseCurl(line: string): { method: string; url: string; headers: Record<string, string>; body: string | undefined } {
  const words = [...line.trim().matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  expect(words[0]).toBe('curl');
  let method = 'GET';
  let url = '';
  let body: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-X') method = words[++i]!;
    else if (w === '-H') {
      const h = words[++i]!;
      const colon = h.indexOf(':');
      headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
    } else if (w === '-d' || w === '--data') body = words[++i];
    else if (/^https?:\/\//.test(w)) url = w;
  }
  return { method, url, headers, body };
}

describe('enrichd start on a fresh database', () => {
  it('created and migrated the database', async () => {
    const db = new pg.Client({ connectionString: databaseUrlFor(dbName) });
    await db.connect();
    try {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await db.end();
    }
  });

  it('prints the demo tenant, an admin token signed with the printed secret, and a curl line that gets 202', async () => {
    const tenant = bannerValue('demo tenant:');
    expect(tenant).toMatch(/^[0-9a-f-]{36}$/);
    const token = bannerValue('admin token:');
    const secret = bannerValue('JWT_SECRET:');
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'] });
    expect(payload.tenant_id).toBe(tenant);
    expect(payload.roles).toContain('admin');

    const curl = proc.stdout.find((l) => /^\s+curl /.test(l))!;
    const req = parseCurl(curl);
    expect(req.url).toBe(`http://127.0.0.1:${port}/v1/enrichment/jobs`);
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
    expect(res.status).toBe(202);
    const job = (await res.json()) as Job;
    expect(job.tenantId).toBe(tenant);
    expect(job.status).toBe('pending');
  });

  it('`enrichd submit --wait` exits 0 and prints the completed job', async () => {
    const token = bannerValue('admin token:');
    const r = await runEnrichd(['submit', 'test_job', '--payload', '{"sleepMs":100}', '--wait', '--url', `http://127.0.0.1:${port}`, '--token', token], {}, 30_000);
    expect(r.code, r.child.output()).toBe(0);
    const job = JSON.parse(r.stdout) as Job;
    expect(job.status).toBe('completed');
    expect(job.result).toMatchObject({ ok: true, sleptMs: 100 });
    expect(job.payload).toEqual({ sleepMs: 100 });
  });

  it('`enrichd submit` without --wait prints the accepted job; a refused one exits 1', async () => {
    const token = bannerValue('admin token:');
    const ok = await runEnrichd(['submit', 'test_job', '--url', `http://127.0.0.1:${port}`, '--token', token], {});
    expect(ok.code, ok.child.output()).toBe(0);
    expect(['pending', 'running', 'completed']).toContain((JSON.parse(ok.stdout) as Job).status);
    const refused = await runEnrichd(['submit', 'no_such_type', '--url', `http://127.0.0.1:${port}`, '--token', token], {});
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: 'unknown_job_type' } });
  });

  it('exits 0 on SIGTERM after shutting down', async () => {
    const started = Date.now();
    const exit = await proc.stop(15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    const msgs = proc.logs().map((l) => l.msg);
    expect(msgs).toContain('shutting down');
    expect(msgs).toContain('worker stopped');
    expect(msgs[msgs.length - 1]).toBe('stopped');
    // Closing our own connections is not an outage.
    expect(msgs).not.toContain('redis connection lost');
    expect(msgs).not.toContain('postgres connection lost');
  });
});
