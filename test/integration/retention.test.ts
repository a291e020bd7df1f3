// The retention sweep (a leader duty, called directly here): finished jobs past
// RETENTION_JOBS_DAYS go with their events, entry results, chunks, deliveries and exports;
// finished deliveries, exports, expired cache rows, provider calls and audit records past
// theirs; in batches of RETENTION_BATCH_SIZE rows. Unfinished and recent ones stay, also when
// the clock moves forward.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pool, createPool } from '../../src/db/pool.js';
import { RetentionSweep } from '../../src/retention/sweep.js';
import { ensureTenant } from '../helpers/lists.js';
import { createTestDatabase } from '../helpers/system.js';

const DAY = 86_400_000;
const retention = { jobsDays: 30, deliveriesDays: 30, exportsDays: 7, auditDays: 365, providerCallsDays: 400, batchSize: 3 };

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const tenants = [randomUUID(), randomUUID()];
const ago = (days: number) => new Date(Date.now() - days * DAY);

async function seedJob(tenantId: string, opts: { status: string; createdDaysAgo: number; completedDaysAgo: number | null; children?: number; type?: string }): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, max_attempts, timeout_ms, created_at, completed_at)
     VALUES ($1, $2, $3, $4, 3, 3, 60000, $5, $6)`,
    [id, tenantId, opts.type ?? 'list_enrichment', opts.status, ago(opts.createdDaysAgo), opts.completedDaysAgo === null ? null : ago(opts.completedDaysAgo)],
  );
  const n = opts.children ?? 4;
  const listId = randomUUID();
  await pool.query(
    `INSERT INTO enrichment_job_events (job_id, tenant_id, to_status, at) SELECT $1, $2, 'running', $3 FROM generate_series(1, $4::int)`,
    [id, tenantId, ago(opts.createdDaysAgo), n],
  );
  await pool.query(
    `INSERT INTO entry_results (entry_id, job_id, tenant_id, list_id, results, outcomes) SELECT g, $1, $2, $3, '{}', '{}' FROM generate_series(1, $4::int) g`,
    [id, tenantId, listId, n],
  );
  await pool.query(
    `INSERT INTO list_job_chunks (job_id, seq, tenant_id, list_id, first_entry_id, last_entry_id, entry_count, state)
     SELECT $1, g, $2, $3, g, g, 1, 'done' FROM generate_series(1, $4::int) g`,
    [id, tenantId, listId, n],
  );
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO webhook_deliveries (tenant_id, job_id, url, event_type, payload, status, created_at)
     SELECT $1, $2, 'https://example.com/hook', 'job.completed', '{}', 'delivered', $3 FROM generate_series(1, 2) RETURNING id`,
    [tenantId, id, ago(opts.createdDaysAgo)],
  );
  for (const d of rows) await pool.query('INSERT INTO webhook_delivery_attempts (delivery_id, tenant_id, status_code, duration_ms) VALUES ($1, $2, 200, 5)', [d.id, tenantId]);
  return id;
}

async function seedExport(tenantId: string, jobId: string, createdDaysAgo: number, parts: number): Promise<void> {
  await pool.query('INSERT INTO exports (id, tenant_id, list_id, format, created_at) VALUES ($1, $2, $3, $4, $5)', [jobId, tenantId, randomUUID(), 'csv', ago(createdDaysAgo)]);
  await pool.query(`INSERT INTO export_parts (export_id, part, tenant_id, data) SELECT $1, g, $2, '\\x00' FROM generate_series(1, $3::int) g`, [jobId, tenantId, parts]);
}

async function count(table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params);
  return rows[0]!.n;
}

const JOB_TABLES: [string, string][] = [
  ['enrichment_job_events', 'job_id'],
  ['entry_results', 'job_id'],
  ['list_job_chunks', 'job_id'],
  ['webhook_deliveries', 'job_id'],
  ['enrichment_job_search', 'job_id'],
];

const oldFinished: string[] = [];
const oldUnfinished: string[] = [];
const recentFinished: string[] = [];
let oldExportJob: string;
let keptJobOldExport: string;

beforeAll(async () => {
  db = await createTestDatabase('retention');
  pool = createPool(db.url, 4);
  for (const t of tenants) await ensureTenant(pool, t);
  for (const t of tenants) {
    for (const status of ['completed', 'failed', 'cancelled']) oldFinished.push(await seedJob(t, { status, createdDaysAgo: 45, completedDaysAgo: 40 }));
    for (const status of ['pending', 'running', 'retrying', 'scheduled']) oldUnfinished.push(await seedJob(t, { status, createdDaysAgo: 90, completedDaysAgo: null }));
    // retried after finishing long ago: unfinished, completed_at cleared by the retry
    recentFinished.push(await seedJob(t, { status: 'completed', createdDaysAgo: 45, completedDaysAgo: 2 }));
    recentFinished.push(await seedJob(t, { status: 'failed', createdDaysAgo: 1, completedDaysAgo: 0.5 }));
  }
  // an old export job (gone with its job) and a kept job whose export is past RETENTION_EXPORTS_DAYS
  oldExportJob = await seedJob(tenants[0]!, { status: 'completed', createdDaysAgo: 50, completedDaysAgo: 50, type: 'export', children: 1 });
  await seedExport(tenants[0]!, oldExportJob, 50, 5);
  oldFinished.push(oldExportJob);
  keptJobOldExport = await seedJob(tenants[1]!, { status: 'completed', createdDaysAgo: 10, completedDaysAgo: 10, type: 'export', children: 1 });
  await seedExport(tenants[1]!, keptJobOldExport, 10, 7);
  recentFinished.push(keptJobOldExport);
  const freshExportJob = await seedJob(tenants[1]!, { status: 'completed', createdDaysAgo: 1, completedDaysAgo: 1, type: 'export', children: 1 });
  await seedExport(tenants[1]!, freshExportJob, 1, 2);
  recentFinished.push(freshExportJob);
  // a recent job's own deliveries: an old finished one goes, an old pending one stays
  await pool.query(
    `INSERT INTO webhook_deliveries (tenant_id, job_id, url, event_type, payload, status, created_at)
     VALUES ($1, $2, 'https://example.com/old', 'job.progress', '{}', 'failed', $3), ($1, $2, 'https://example.com/pending', 'job.progress', '{}', 'pending', $3)`,
    [tenants[0], recentFinished[0], ago(35)],
  );
  // cache: expired hours ago (goes), minutes ago (within the grace: stays), fresh (stays)
  await pool.query(
    `INSERT INTO provider_cache (scope, provider, endpoint, input_key, want, state, expires_at)
     SELECT 'global', 'hunter', 'find', 'old' || g, 'email', 'hit', now() - interval '3 hours' FROM generate_series(1, 7) g
     UNION ALL SELECT 'global', 'hunter', 'find', 'grace', 'email', 'miss', now() - interval '10 minutes'
     UNION ALL SELECT 'global', 'hunter', 'find', 'fresh', 'email', 'hit', now() + interval '10 days'`,
  );
  for (const t of tenants) {
    await pool.query(
      `INSERT INTO provider_calls (tenant_id, provider, endpoint, kind, outcome, at)
       SELECT $1::uuid, 'hunter', 'find', 'call', 'hit', now() - interval '500 days' FROM generate_series(1, 4)
       UNION ALL SELECT $1::uuid, 'hunter', 'find', 'call', 'hit', now() - interval '10 days'`,
      [t],
    );
    await pool.query(
      `INSERT INTO audit_log (tenant_id, at, sub, action, resource, status, request_id)
       SELECT $1::uuid, now() - interval '400 days', 'u', 'job.create', 'job', 202, 'r' || g FROM generate_series(1, 5) g
       UNION ALL SELECT $1::uuid, now() - interval '10 days', 'u', 'job.create', 'job', 202, 'kept'`,
      [t],
    );
  }
}, 60_000);
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('retention sweep', () => {
  it('deletes exactly what is past its retention, in batches, and keeps the rest', async () => {
    const sweep = new RetentionSweep({ pool, retention });
    const first = await sweep.run();
    expect(first.complete).toBe(true);
    // batches of 3: many statements, none deleting more than a batch
    expect(first.statements).toBeGreaterThan(20);
    expect(first.deleted.enrichment_jobs).toBe(oldFinished.length);
    expect(first.deleted.audit_log).toBe(10);
    expect(first.deleted.provider_calls).toBe(8);
    expect(first.deleted.provider_cache).toBe(7);

    expect(await count('enrichment_jobs', 'id = ANY($1::uuid[])', [oldFinished])).toBe(0);
    for (const [table, column] of JOB_TABLES) expect(await count(table, `${column} = ANY($1::uuid[])`, [oldFinished]), table).toBe(0);
    expect(await count('webhook_delivery_attempts', 'delivery_id NOT IN (SELECT id FROM webhook_deliveries)')).toBe(0);
    expect(await count('exports', 'id = $1', [oldExportJob])).toBe(0);
    expect(await count('export_parts', 'export_id = $1', [oldExportJob])).toBe(0);

    // unfinished and recent jobs stay whole
    const kept = [...oldUnfinished, ...recentFinished];
    expect(await count('enrichment_jobs', 'id = ANY($1::uuid[])', [kept])).toBe(kept.length);
    for (const [table, column] of [['enrichment_job_events', 'job_id'], ['entry_results', 'job_id'], ['list_job_chunks', 'job_id']]) {
      expect(await count(table!, `${column!} = ANY($1::uuid[])`, [kept]), table).toBeGreaterThanOrEqual(kept.length);
    }
    // the 10-day-old export is past RETENTION_EXPORTS_DAYS (7): its file goes, its job stays
    expect(await count('exports', 'id = $1', [keptJobOldExport])).toBe(0);
    expect(await count('export_parts', 'export_id = $1', [keptJobOldExport])).toBe(0);
    expect(await count('export_parts')).toBe(2);
    // deliveries: the old finished one of a kept job went, the pending one stays
    expect(await count('webhook_deliveries', "url = 'https://example.com/old'")).toBe(0);
    expect(await count('webhook_deliveries', "url = 'https://example.com/pending'")).toBe(1);
    expect(await count('provider_cache')).toBe(2);
    expect(await count('provider_calls')).toBe(2);
    expect((await pool.query<{ request_id: string }>('SELECT request_id FROM audit_log')).rows.map((r) => r.request_id)).toEqual(['kept', 'kept']);

    // nothing left to do: one statement per table kind, nothing deleted
    const again = await sweep.run();
    expect(again.deleted).toEqual({});
  });

  it('with the clock moved forward, recent finished jobs go too; unfinished ones never', async () => {
    const sweep = new RetentionSweep({ pool, retention });
    const later = new Date(Date.now() + 31 * DAY);
    const out = await sweep.run(later);
    expect(out.deleted.enrichment_jobs).toBe(recentFinished.length);
    expect(await count('enrichment_jobs', 'id = ANY($1::uuid[])', [recentFinished])).toBe(0);
    expect(await count('enrichment_jobs')).toBe(oldUnfinished.length);
    expect(await count('entry_results', 'job_id <> ALL($1::uuid[])', [oldUnfinished])).toBe(0);
    expect(await count('webhook_deliveries', 'job_id <> ALL($1::uuid[])', [oldUnfinished])).toBe(0);
    expect(await count('export_parts')).toBe(0);
    expect(await count('provider_cache')).toBe(0); // the fresh one expired 21 days before this "now"
    expect(await count('audit_log')).toBe(2); // 10 + 31 days old, kept 365
  });

  it('stops at its time budget and resumes on the next run', async () => {
    const t = tenants[0]!;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await seedJob(t, { status: 'completed', createdDaysAgo: 60, completedDaysAgo: 60, children: 10 }));
    const sweep = new RetentionSweep({ pool, retention, budgetMs: 0 });
    const cut = await sweep.run();
    expect(cut.complete).toBe(false);
    expect(await count('enrichment_jobs', 'id = ANY($1::uuid[])', [ids])).toBe(4);
    const whole = new RetentionSweep({ pool, retention });
    for (let i = 0; i < 5 && (await count('enrichment_jobs', 'id = ANY($1::uuid[])', [ids])) > 0; i++) await whole.run();
    expect(await count('enrichment_jobs', 'id = ANY($1::uuid[])', [ids])).toBe(0);
    expect(await count('entry_results', 'job_id = ANY($1::uuid[])', [ids])).toBe(0);
  });
});
