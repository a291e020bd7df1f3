// The command line as a user meets it: help, tokens, and refusals that say what is wrong in one line.
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, killAllChildren, runEnrichd } from '../helpers/processes.js';
import { TEST_JWT_SECRET } from '../helpers/urls.js';

afterAll(async () => {
  await killAllChildren();
});

// What each command's help must mention, beyond its name.
const HELP: Record<string, RegExp[]> = {
  start: [/migrate/, /DATABASE_URL/, /REDIS_URL/, /PORT/, /JWT_SECRET/, /WORKER_COUNT/],
  api: [/JWT_SECRET/, /PORT/, /DATABASE_URL/, /REDIS_URL/],
  worker: [/--count <n>/, /MAX_CONCURRENT_JOBS/, /STALLED_INTERVAL/, /REDIS_URL/],
  migrate: [/create the database/, /DATABASE_URL/],
  token: [/--tenant <uuid>/, /--ttl <duration>/, /--admin/, /JWT_SECRET/],
  submit: [/<type>/, /--payload <json>/, /--wait/, /--url <url>/, /--token <jwt>/],
};

// Each case is a fresh node process doing little but loading the CLI: run them side by side.
describe.concurrent('enrichd --help', () => {
  it('lists every command and exits 0', async () => {
    const r = await runEnrichd(['--help'], {});
    expect(r.code).toBe(0);
    for (const cmd of Object.keys(HELP)) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });

  it.each(Object.keys(HELP))('%s --help describes its options and exits 0', async (cmd) => {
    const r = await runEnrichd([cmd, '--help'], {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Usage: enrichd ${cmd}`);
    for (const re of HELP[cmd]!) expect(r.stdout).toMatch(re);
  });
});

describe('enrichd token', () => {
  it('prints a JWT with the tenant, the admin role and the asked lifetime', async () => {
    const tenant = randomUUID();
    const before = Math.floor(Date.now() / 1000);
    const r = await runEnrichd(['token', '--tenant', tenant, '--admin', '--ttl', '2h'], { JWT_SECRET: TEST_JWT_SECRET });
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    expect(decodeProtectedHeader(token).alg).toBe('HS256');
    const { payload } = await jwtVerify(token, new TextEncoder().encode(TEST_JWT_SECRET), { algorithms: ['HS256'] });
    expect(payload.tenant_id).toBe(tenant);
    expect(payload.roles).toEqual(['admin']);
    expect(typeof payload.sub).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(7200);
    expect(payload.iat!).toBeGreaterThanOrEqual(before);
  });

  it('signs without the admin role unless asked', async () => {
    const r = await runEnrichd(['token', '--tenant', randomUUID()], { JWT_SECRET: TEST_JWT_SECRET });
    const { payload } = await jwtVerify(r.stdout.trim(), new TextEncoder().encode(TEST_JWT_SECRET));
    expect(payload.roles).toEqual([]);
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('refuses a tenant that is not a UUID, and a token without JWT_SECRET', async () => {
    const bad = await runEnrichd(['token', '--tenant', 'acme'], { JWT_SECRET: TEST_JWT_SECRET });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toMatch(/--tenant must be a UUID/);
    const noSecret = await runEnrichd(['token', '--tenant', randomUUID()], {});
    expect(noSecret.code).not.toBe(0);
    expect(noSecret.stderr.trim().split('\n')).toHaveLength(1);
    expect(noSecret.stderr).toMatch(/JWT_SECRET/);
  });
});

describe('refusals at start', () => {
  it('`enrichd api` without JWT_SECRET exits non-zero with one line naming JWT_SECRET', async () => {
    const r = await runEnrichd(['api'], { PORT: String(await freePort()) });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/JWT_SECRET/);
  });

  it.each([
    ['PORT', 'abc'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['MAX_CONCURRENT_JOBS', '0'],
  ])('a bad %s (%s) exits non-zero with one line naming it', async (name, value) => {
    const r = await runEnrichd(['api'], { JWT_SECRET: TEST_JWT_SECRET, [name]: value });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`\\b${name}\\b`));
    expect(lines[0]).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('`enrichd start` with Redis on a closed port says which store is down, where, and how to start it', async () => {
    const port = await freePort();
    const boot = Date.now();
    await runEnrichd(['--help'], {});
    const bootMs = Date.now() - boot;
    const started = Date.now();
    const r = await runEnrichd(['start'], { REDIS_URL: `redis://127.0.0.1:${port}`, PORT: String(await freePort()) });
    expect(r.code).not.toBe(0);
    // Nothing is left open that would keep a failed start alive.
    expect(Date.now() - started).toBeLessThan(1500 + bootMs);
    expect(r.stderr).toMatch(new RegExp(`Redis is not reachable at redis://127\\.0\\.0\\.1:${port}/? \\(REDIS_URL\\)`));
    // The cause, not ioredis's generic "Connection is closed".
    expect(r.stderr).toMatch(new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}\\.\\n`));
    expect(r.stderr).toMatch(/Start it \(redis-server/);
    expect(r.stderr).not.toMatch(/PostgreSQL is not reachable/);
  });
});
