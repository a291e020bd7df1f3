// Migrates one template database per run; each test file clones it (fast, isolated).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createPool, ensureDatabase } from '../../src/db/pool.js';
import { migrate } from '../../src/db/migrate.js';
import { ADMIN_URL, TEST_APP_ROLE, databaseUrlFor } from './urls.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    runId: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomBytes(4).toString('hex');
  const template = `enrichd_tpl_${runId}`;
  const url = databaseUrlFor(template);
  await ensureDatabase(url);
  const pool = createPool(url, 2);
  await migrate(pool, TEST_APP_ROLE);
  await pool.end();
  project.provide('templateDatabase', template);
  project.provide('runId', runId);
  return async () => {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1::text", [`enrichd_%${runId}%`]);
    for (const r of rows) await admin.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
    await admin.end();
  };
}
