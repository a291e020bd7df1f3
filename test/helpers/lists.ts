// Lists and plans written straight into PostgreSQL, for tests of the pipeline that are not about import.
import { randomUUID } from 'node:crypto';
import type { Pool } from '../../src/db/pool.js';
import type { PlanStep } from '../../src/enrich/plan.js';

/** Creates the tenant row a first API request would create. */
export async function ensureTenant(pool: Pool, tenantId: string): Promise<void> {
  await pool.query('INSERT INTO tenants (id) VALUES ($1::uuid) ON CONFLICT DO NOTHING', [tenantId]);
}

/** A list with the given entries, in order; returns its id. */
export async function seedList(pool: Pool, tenantId: string, entries: Record<string, unknown>[]): Promise<string> {
  await ensureTenant(pool, tenantId);
  const id = randomUUID();
  const columns = [...new Set(entries.flatMap((e) => Object.keys(e)))].map((name) => ({ name, mappedTo: null }));
  await pool.query('INSERT INTO lists (id, tenant_id, name, entry_count, columns) VALUES ($1, $2, $3, $4, $5)', [id, tenantId, 'seeded', entries.length, JSON.stringify(columns)]);
  const BATCH = 10_000;
  for (let i = 0; i < entries.length; i += BATCH) {
    await pool.query(
      'INSERT INTO list_entries (tenant_id, list_id, data) SELECT $1::uuid, $2::uuid, d FROM unnest($3::jsonb[]) WITH ORDINALITY AS t(d, n) ORDER BY n',
      [tenantId, id, entries.slice(i, i + BATCH).map((e) => JSON.stringify(e))],
    );
  }
  return id;
}

/** A list of n generated people (name, contact, email, phone, domain), made inside PostgreSQL. */
export async function seedGeneratedList(pool: Pool, tenantId: string, n: number): Promise<string> {
  await ensureTenant(pool, tenantId);
  const id = randomUUID();
  await pool.query('INSERT INTO lists (id, tenant_id, name, entry_count) VALUES ($1, $2, $3, $4)', [id, tenantId, `generated ${n}`, n]);
  await pool.query(
    `INSERT INTO list_entries (tenant_id, list_id, data)
     SELECT $1::uuid, $2::uuid, jsonb_build_object(
       'external_id', 'p' || g, 'first_name', 'Ann' || g, 'last_name', 'Lee', 'dob', '1980-01-02',
       'email', 'ann' || g || '@example.com', 'phone', '+1 415 555 ' || lpad((g % 10000)::text, 4, '0'),
       'contact_first_name', 'Ann' || g, 'contact_last_name', 'Lee', 'contact_dob', '1980-01-02')
     FROM generate_series(1, $3::int) g ORDER BY g`,
    [tenantId, id, n],
  );
  return id;
}

/** A plan of the given steps; returns its id. */
export async function seedPlan(pool: Pool, tenantId: string, steps: PlanStep[], errorThreshold = 1): Promise<string> {
  await ensureTenant(pool, tenantId);
  const id = randomUUID();
  await pool.query('INSERT INTO enrichment_plans (id, tenant_id, name, steps, error_threshold) VALUES ($1, $2, $3, $4, $5)', [id, tenantId, 'seeded', JSON.stringify(steps), errorThreshold]);
  return id;
}

/** The four local steps with default options. */
export const LOCAL_STEPS: PlanStep[] = [
  { type: 'rpc_score', options: {} },
  { type: 'email_validation', options: {} },
  { type: 'phone_normalization', options: {} },
  { type: 'company_domain', options: {} },
];
