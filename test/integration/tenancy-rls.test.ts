// Row-level security binds through the application role even though the pool connects as a superuser.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/transaction.js';
import { postJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

const TENANT_TABLES = ['lists', 'enrichment_plans', 'enrichment_jobs', 'enrichment_job_events'];

let sys: TestSystem;
const tenantA = randomUUID();
const tenantB = randomUUID();

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0 });
  for (const [tenantId, n] of [[tenantA, 3], [tenantB, 2]] as const) {
    const token = await sys.token({ tenantId });
    for (let i = 0; i < n; i++) {
      const res = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', delayMs: 600_000 });
      expect(res.status).toBe(202);
    }
    await sys.services.pool.query('INSERT INTO lists (tenant_id, name) VALUES ($1::uuid, $2::text)', [tenantId, `list of ${tenantId}`]);
    await sys.services.pool.query("INSERT INTO enrichment_plans (tenant_id, name, steps) VALUES ($1::uuid, 'p', '[]')", [tenantId]);
  }
});
afterAll(async () => {
  await sys?.close();
});

// Every table with a tenant_id, as the catalog lists it: a table added later is covered too.
const TENANT_TABLES_SQL = `
SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polqual IS NOT NULL AND p.polwithcheck IS NOT NULL) AS guarded
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
ORDER BY 1`;

describe('row-level security', () => {
  it('is enabled, forced and guarded (USING and WITH CHECK) on every table with a tenant_id, and binds there', async () => {
    const { rows } = await sys.services.pool.query<{ table: string; enabled: boolean; forced: boolean; guarded: boolean }>(TENANT_TABLES_SQL);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const r of rows) {
      // tenants is the tenant list itself (id, no tenant_id); every other table holds one tenant's rows
      expect({ table: r.table, enabled: r.enabled, forced: r.forced, guarded: r.guarded }).toEqual({ table: r.table, enabled: true, forced: true, guarded: true });
    }
    const client = await sys.services.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT set_config('role', $1::text, true)", [sys.config.databaseAppRole]);
      for (const r of rows) {
        const { rows: seen } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${r.table}`);
        expect(seen[0]!.n, r.table).toBe(0);
      }
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('shows the application role nothing without a tenant setting', async () => {
    const client = await sys.services.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT set_config('role', $1::text, true)", [sys.config.databaseAppRole]);
      for (const table of TENANT_TABLES) {
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
        expect(rows[0]!.n, table).toBe(0);
      }
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('shows each tenant only its own rows, also interleaved on pooled connections', async () => {
    const counts = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const tenant = i % 2 === 0 ? tenantA : tenantB;
        return withTenant(sys.services.pool, sys.config.databaseAppRole, tenant, async (tx) => {
          const { rows } = await tx.query<{ n: number; other: number }>(
            'SELECT count(*)::int AS n, count(*) FILTER (WHERE tenant_id <> $1::uuid)::int AS other FROM enrichment_jobs',
            [tenant],
          );
          return { tenant, ...rows[0]! };
        });
      }),
    );
    for (const c of counts) {
      expect(c.other).toBe(0);
      expect(c.n).toBe(c.tenant === tenantA ? 3 : 2);
    }
  });

  it('refuses to write a row for another tenant', async () => {
    await expect(
      withTenant(sys.services.pool, sys.config.databaseAppRole, tenantA, (tx) =>
        tx.query('INSERT INTO lists (tenant_id, name) VALUES ($1::uuid, $2::text)', [tenantB, 'sneaky']),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('runs tenant transactions as a role that is neither superuser nor exempt from RLS', async () => {
    const role = await withTenant(sys.services.pool, sys.config.databaseAppRole, tenantA, async (tx) => {
      const { rows } = await tx.query<{ current_user: string; rolsuper: boolean; rolbypassrls: boolean }>(
        'SELECT current_user, r.rolsuper, r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user',
      );
      return rows[0]!;
    });
    expect(role).toEqual({ current_user: sys.config.databaseAppRole, rolsuper: false, rolbypassrls: false });
  });
});
