// SQL for the API side of jobs: record a batch, read one, check references. All tenant-scoped.
import type { QueryConfig } from 'pg';
import type { Tx } from '../db/transaction.js';
import type { JobRow } from './job.js';
import type { JobReference } from './types/job-type.js';

/** A job about to be recorded. */
export interface NewJob {
  id: string;
  type: string;
  status: 'pending' | 'scheduled';
  priority: number;
  payload: Record<string, unknown>;
  tags: string[];
  maxAttempts: number;
  timeoutMs: number;
  webhookUrl: string | null;
  runAt: Date | null;
  idempotencyKey: string | null;
  requestHash: string | null;
}

export interface RecordedJob {
  row: JobRow;
  /** false when an earlier job with the same Idempotency-Key was found instead */
  created: boolean;
}

const RELEASE_EXPIRED_KEYS = `
UPDATE enrichment_jobs SET idempotency_key = NULL
WHERE tenant_id = $1::uuid AND idempotency_key = ANY($2::text[]) AND created_at < now() - interval '24 hours'`;

const INSERT_JOBS = `
WITH input AS (
  SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::smallint[], $6::jsonb[], $7::jsonb[],
                       $8::int[], $9::int[], $10::text[], $11::timestamptz[], $12::text[], $13::text[])
    AS t(id, type, status, priority, payload, tags, max_attempts, timeout_ms, webhook_url, run_at, idempotency_key, request_hash)
), ins AS (
  INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, payload, tags, max_attempts, timeout_ms,
                               webhook_url, run_at, idempotency_key, request_hash)
  SELECT id, $1::uuid, type, status, priority, payload, ARRAY(SELECT jsonb_array_elements_text(tags)),
         max_attempts, timeout_ms, webhook_url, run_at, idempotency_key, request_hash
  FROM input
  ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING *
), events AS (
  INSERT INTO enrichment_job_events (job_id, tenant_id, from_status, to_status, attempt, message)
  SELECT id, tenant_id, NULL, status, 0, 'created' FROM ins
)
SELECT * FROM ins`;

const SELECT_BY_KEYS = `
SELECT * FROM enrichment_jobs WHERE tenant_id = $1::uuid AND idempotency_key = ANY($2::text[])`;

/** The statement that records a batch of one tenant's jobs (and their `created` events). */
export function insertJobsStatement(tenantId: string, jobs: NewJob[]): QueryConfig {
  // Named, so each connection parses and plans it once: it is the hottest statement of submit.
  return { name: 'enrichd_insert_jobs', text: INSERT_JOBS, values: insertValues(tenantId, jobs) };
}

/** Results of a batch whose jobs carry no idempotency key: every job was inserted. */
export function insertedJobs(jobs: NewJob[], rows: JobRow[]): RecordedJob[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return jobs.map((j) => {
    const row = byId.get(j.id);
    if (!row) throw new Error(`job ${j.id} was not inserted`);
    return { row, created: true };
  });
}

/** The insert's parameters: one array per column. */
function insertValues(tenantId: string, jobs: NewJob[]): unknown[] {
  return [
    tenantId,
    jobs.map((j) => j.id),
    jobs.map((j) => j.type),
    jobs.map((j) => j.status),
    jobs.map((j) => j.priority),
    jobs.map((j) => JSON.stringify(j.payload)),
    jobs.map((j) => JSON.stringify(j.tags)),
    jobs.map((j) => j.maxAttempts),
    jobs.map((j) => j.timeoutMs),
    jobs.map((j) => j.webhookUrl),
    jobs.map((j) => j.runAt),
    jobs.map((j) => j.idempotencyKey),
    jobs.map((j) => j.requestHash),
  ];
}

/** Records a batch of one tenant's jobs in one statement; idempotency-key conflicts return the earlier job. */
export async function insertJobs(tx: Tx, tenantId: string, jobs: NewJob[]): Promise<RecordedJob[]> {
  const keys = jobs.map((j) => j.idempotencyKey).filter((k): k is string => k !== null);
  if (keys.length > 0) await tx.query(RELEASE_EXPIRED_KEYS, [tenantId, keys]);
  const { rows } = await tx.query<JobRow>(insertJobsStatement(tenantId, jobs));
  const byId = new Map(rows.map((r) => [r.id, r]));
  let byKey = new Map<string, JobRow>();
  if (rows.length < jobs.length && keys.length > 0) {
    const existing = await tx.query<JobRow>(SELECT_BY_KEYS, [tenantId, keys]);
    byKey = new Map(existing.rows.map((r) => [r.idempotency_key!, r]));
  }
  return jobs.map((j) => {
    const row = byId.get(j.id);
    if (row) return { row, created: true };
    const earlier = j.idempotencyKey ? byKey.get(j.idempotencyKey) : undefined;
    if (!earlier) throw new Error(`job ${j.id} was neither inserted nor found by its idempotency key`);
    return { row: earlier, created: false };
  });
}

/** One job of the current tenant, or null. */
export async function getJob(tx: Tx, id: string): Promise<JobRow | null> {
  const { rows } = await tx.query<JobRow>('SELECT * FROM enrichment_jobs WHERE id = $1::uuid', [id]);
  return rows[0] ?? null;
}

// Table names come from this allow-list only, never from input.
const REFERENCE_QUERIES: Record<JobReference['table'], string> = {
  lists: 'SELECT EXISTS (SELECT 1 FROM lists WHERE id = $1::uuid) AS found',
  enrichment_plans: 'SELECT EXISTS (SELECT 1 FROM enrichment_plans WHERE id = $1::uuid) AS found',
};

/** Whether the current tenant owns the referenced row. */
export async function referenceExists(tx: Tx, table: JobReference['table'], id: string): Promise<boolean> {
  const { rows } = await tx.query<{ found: boolean }>(REFERENCE_QUERIES[table], [id]);
  return rows[0]?.found === true;
}
