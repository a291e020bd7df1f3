// `enrichd migrate` run twice at once on a database that does not exist yet.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readMigrations } from '../../src/db/migrate.js';
import { killAllChildren, runEnrichd } from '../helpers/processes.js';
import { ADMIN_URL, TEST_APP_ROLE, databaseUrlFor } from '../helpers/urls.js';

const created: string[] = [];

afterAll(async () => {
  await killAllChildren();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
});

describe('enrichd migrate', () => {
  it('two at once on a missing database: both exit 0, the database is created and each migration applied once', async () => {
    const name = `enrichd_mig_${inject('runId')}_${randomBytes(3).toString('hex')}`;
    created.push(name);
    const env = { DATABASE_URL: databaseUrlFor(name), DATABASE_APP_ROLE: TEST_APP_ROLE, LOG_LEVEL: 'info' };

    const [a, b] = await Promise.all([runEnrichd(['migrate'], env), runEnrichd(['migrate'], env)]);
    for (const r of [a, b]) expect({ code: r.code, signal: r.signal }, r.child.output()).toEqual({ code: 0, signal: null });

    const expected = readMigrations().map((m) => m.name);
    // One of them applied everything; the other waited on the lock and found nothing to do.
    const appliers = [a.stdout, b.stdout].filter((o) => o.includes('applied:'));
    expect(appliers).toHaveLength(1);
    expect(appliers[0]).toContain(`applied: ${expected.join(', ')}`);
    expect([a.stdout, b.stdout].filter((o) => o.includes('up to date'))).toHaveLength(1);
    expect([a.stdout, b.stdout].filter((o) => o.includes('database created'))).toHaveLength(1);

    const db = new pg.Client({ connectionString: databaseUrlFor(name) });
    await db.connect();
    try {
      const { rows } = await db.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => r.name)).toEqual(expected);
      const tables = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'enrichment_jobs'");
      expect(tables.rows[0]!.n).toBe(1);
    } finally {
      await db.end();
    }

    // A third run later: nothing to do, exit 0.
    const again = await runEnrichd(['migrate'], env);
    expect(again.code, again.child.output()).toBe(0);
    expect(again.stdout).toMatch(/up to date/);
  });

  it('names DATABASE_URL and how to start PostgreSQL when it cannot connect', async () => {
    const r = await runEnrichd(['migrate'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing', LOG_LEVEL: 'info' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/PostgreSQL is not reachable at postgres:\/\/postgres@127\.0\.0\.1:1\/nothing \(DATABASE_URL\)/);
    expect(r.stderr).toMatch(/Start it/);
  });
});
