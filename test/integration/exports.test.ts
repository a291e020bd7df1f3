// Exports end to end: fixtures in SQL, POST /v1/exports, the worker writes the file, the download
// parses back to every uploaded column, the step columns (latest run wins), escaped formula cells.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/transaction.js';
import type { Job, JobRow } from '../../src/jobs/job.js';
import { PART_SIZE } from '../../src/lists/export/part-writer.js';
import { ensureExport, insertPart } from '../../src/lists/export/repository.js';
import type { JobHandler } from '../../src/queue/handlers/handler.js';
import { exportHandler } from '../../src/queue/handlers/export.js';
import { type RunningParts, startParts, stopParts } from '../../src/runtime/services.js';
import { getJson, postJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

interface ExportBody {
  id: string;
  listId: string;
  format: 'csv' | 'jsonl';
  status: string;
  rows: number;
  bytes: number;
  createdAt: string;
  completedAt: string | null;
}
interface ErrorBody {
  error: { code: string; message: string; details: { path: string; message: string }[] };
}

let sys: TestSystem;
let worker: RunningParts;
const tenantA = randomUUID();
const tenantB = randomUUID();
let tokenA: string;
let tokenB: string;
let listId: string;
let bigListId: string;
let heldListId: string;
let entryIds: string[] = [];

// The worker's export handler is the real one, wrapped: jobs tagged FAIL_FIRST write stray
// parts and fail their first attempt; exports of the held list wait until released. Both are
// known from the job itself, so no test races the worker to mark its job.
const FAIL_FIRST = 'fail-first-attempt';
let release: () => void = () => undefined;
const held = new Promise<void>((resolve) => (release = resolve));

const COLUMNS = [
  { name: 'First Name', mappedTo: 'first_name' },
  { name: 'last_name', mappedTo: 'last_name' },
  { name: 'email', mappedTo: 'email' },
  { name: 'phone', mappedTo: 'phone' },
  { name: 'notes', mappedTo: null },
];
const ENTRIES: Record<string, string>[] = [
  { 'First Name': '=SUM(A1)', last_name: 'Smith', email: 'ann@example.com', phone: '+1 202 555 0100', notes: 'plain' },
  { 'First Name': 'Bob', last_name: '+1', email: '@x', phone: '-2', notes: 'a, "quoted"\nline' },
  { 'First Name': 'Cy', last_name: 'Doe', email: '', phone: '', notes: '\tTab' },
  { 'First Name': 'Dee', last_name: 'Roe', email: 'dee@example.com', phone: '555', notes: '-' },
  { 'First Name': 'Eve', last_name: 'Poe', email: 'eve@example.com', phone: 'x' },
];

const emailResult = (email: string, status: string, extra: Record<string, unknown> = {}) => ({
  email, status, syntax: status !== 'invalid', disposable: false, role: false, freeMail: false, domain: 'example.com', reasons: [], ...extra,
});
const rpc = (score: number, cls: string) => ({ score, class: cls, weight: 1, reasons: [{ field: 'dob', level: 'exact', weight: 10 }] });
const PHONE_OK = { e164: '+12025550100', valid: true, type: 'FIXED_LINE_OR_MOBILE', country: 'US' };
const PHONE_BAD = { e164: null, valid: false, type: null, country: null };

// Run A (an hour ago: plan rpc_score + email_validation) and run B (now: email_validation +
// phone_normalization), per entry index: [results, errors].
const RUN_A: [Record<string, unknown>, Record<string, string> | null][] = [
  [{ rpc_score: rpc(95, 'rpc'), email_validation: emailResult('ann@example.com', 'risky', { role: true, reasons: ['role_account'] }) }, null],
  [{ rpc_score: { class: null, skipped: 'no_contact' } }, { email_validation: 'old failure' }],
  [{ rpc_score: rpc(10, 'wpc'), email_validation: { skipped: 'missing_input' } }, null],
  [{ rpc_score: rpc(50, 'review'), email_validation: emailResult('dee@example.com', 'valid') }, null],
];
const RUN_B: [Record<string, unknown>, Record<string, string> | null][] = [
  [{ email_validation: emailResult('ann@example.com', 'valid'), phone_normalization: PHONE_OK }, null],
  [{ email_validation: emailResult('@x', 'invalid', { reasons: ['syntax'] }), phone_normalization: PHONE_BAD }, null],
  [{ email_validation: { skipped: 'missing_input' }, phone_normalization: { skipped: 'missing_input' } }, null],
  [{ email_validation: emailResult('dee@example.com', 'valid') }, { phone_normalization: 'phone step exploded' }],
];

async function sql<T extends object = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await sys.services.pool.query(text, params)).rows as T[];
}

async function insertList(tenantId: string, name: string): Promise<string> {
  const [row] = await sql<{ id: string }>('INSERT INTO lists (tenant_id, name, columns, entry_count) VALUES ($1::uuid, $2::text, $3::jsonb, 0) RETURNING id', [
    tenantId, name, JSON.stringify(COLUMNS),
  ]);
  return row!.id;
}

/** A finished list_enrichment job of the given plan steps over the list, as the export finds them. */
async function insertRun(tenantId: string, list: string, steps: string[]): Promise<string> {
  const [plan] = await sql<{ id: string }>('INSERT INTO enrichment_plans (tenant_id, name, steps) VALUES ($1::uuid, $2::text, $3::jsonb) RETURNING id', [
    tenantId, 'plan', JSON.stringify(steps.map((type) => ({ type, options: {} }))),
  ]);
  const jobId = randomUUID();
  await sql(
    `INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, payload, max_attempts, timeout_ms, completed_at)
     VALUES ($1::uuid, $2::uuid, 'list_enrichment', 'completed', 3, $3::jsonb, 3, 60000, now())`,
    [jobId, tenantId, JSON.stringify({ listId: list, planId: plan!.id, chunkSize: 50 })],
  );
  return jobId;
}

async function insertResults(tenantId: string, list: string, jobId: string, run: typeof RUN_A, age: string): Promise<void> {
  for (const [i, [results, errors]] of run.entries()) {
    await sql(
      `INSERT INTO entry_results (entry_id, job_id, tenant_id, list_id, results, outcomes, errors, updated_at)
       VALUES ($1::bigint, $2::uuid, $3::uuid, $4::uuid, $5::jsonb, '{}', $6::jsonb, now() - $7::interval)`,
      [entryIds[i], jobId, tenantId, list, JSON.stringify(results), errors === null ? null : JSON.stringify(errors), age],
    );
  }
}

beforeAll(async () => {
  // No built-in worker: the one below runs the real export handler behind a wrapper, and a
  // second worker would race it for the jobs the wrapper must see.
  sys = await startTestSystem({ workers: 0 });
  const real = exportHandler({ config: sys.config, pool: sys.services.pool });
  const wrapped: JobHandler = async (ctx) => {
    if (ctx.payload.listId === heldListId) await held;
    if (ctx.job.tags.includes(FAIL_FIRST) && ctx.attempt === 1) {
      // What an attempt that committed some parts and then died would leave behind.
      await withTenant(sys.services.pool, sys.config.databaseAppRole, ctx.job.tenant_id, async (tx) => {
        await ensureExport(tx, { id: ctx.job.id, tenantId: ctx.job.tenant_id, listId: String(ctx.payload.listId), format: 'csv' });
        for (let part = 0; part < 3; part++) await insertPart(tx, { exportId: ctx.job.id, tenantId: ctx.job.tenant_id, part, data: Buffer.from('GARBAGE\n') });
      });
      throw new Error('first attempt fails on purpose');
    }
    return real(ctx);
  };
  worker = await startParts(sys.services, { api: false, leader: false, workers: 1, handlers: new Map([['export', wrapped]]) }, () => true);

  tokenA = await sys.token({ tenantId: tenantA });
  tokenB = await sys.token({ tenantId: tenantB });
  await sql('INSERT INTO tenants (id) VALUES ($1::uuid), ($2::uuid) ON CONFLICT DO NOTHING', [tenantA, tenantB]);

  listId = await insertList(tenantA, 'fixtures');
  entryIds = [];
  for (const data of ENTRIES) {
    const [row] = await sql<{ id: string }>('INSERT INTO list_entries (tenant_id, list_id, data) VALUES ($1::uuid, $2::uuid, $3::jsonb) RETURNING id::text', [
      tenantA, listId, JSON.stringify(data),
    ]);
    entryIds.push(row!.id);
  }
  await sql('UPDATE lists SET entry_count = $2::int WHERE id = $1::uuid', [listId, ENTRIES.length]);
  const jobA = await insertRun(tenantA, listId, ['rpc_score', 'email_validation']);
  const jobB = await insertRun(tenantA, listId, ['email_validation', 'phone_normalization']);
  // The later run is inserted first, so only updated_at can make it win.
  await insertResults(tenantA, listId, jobB, RUN_B, '0 seconds');
  await insertResults(tenantA, listId, jobA, RUN_A, '1 hour');

  // Over two parts and three pages: 2500 entries of about 600 bytes, no step run.
  bigListId = await insertList(tenantA, 'big');
  await sql(
    `INSERT INTO list_entries (tenant_id, list_id, data)
     SELECT $1::uuid, $2::uuid, jsonb_build_object('First Name', 'n' || g, 'notes', repeat('x', 600)) FROM generate_series(1, 2500) g`,
    [tenantA, bigListId],
  );
  heldListId = await insertList(tenantA, 'held');
});

afterAll(async () => {
  release();
  if (worker) await stopParts(worker);
  await sys?.close();
});

async function createExport(list: string, format: 'csv' | 'jsonl', token = tokenA) {
  return postJson<ExportBody>(sys.app, '/v1/exports', token, { listId: list, format });
}

async function completed(id: string, token = tokenA): Promise<ExportBody> {
  // A failed export ends the wait at once, rather than at the timeout.
  const body = await waitFor(async () => {
    const res = await getJson<ExportBody>(sys.app, `/v1/exports/${id}`, token);
    return res.body.status === 'completed' || res.body.status === 'failed' ? res.body : null;
  }, 30_000);
  if (body.status !== 'completed') throw new Error(`export ${id} ${body.status}`);
  return body;
}

async function download(id: string, token = tokenA) {
  const res = await sys.app.inject({ method: 'GET', url: `/v1/exports/${id}/download`, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, headers: res.headers, raw: res.rawPayload, text: res.body };
}

const EXPECTED_HEADER = [
  'First Name', 'last_name', 'email', 'phone', 'notes',
  'rpc_score.score', 'rpc_score.class', 'rpc_score.reasons', 'rpc_score.skipped', 'rpc_score.error',
  'email_validation.email', 'email_validation.status', 'email_validation.syntax', 'email_validation.disposable', 'email_validation.role',
  'email_validation.freeMail', 'email_validation.domain', 'email_validation.reasons', 'email_validation.skipped', 'email_validation.error',
  'phone_normalization.e164', 'phone_normalization.valid', 'phone_normalization.type', 'phone_normalization.country',
  'phone_normalization.skipped', 'phone_normalization.error',
];

describe('CSV export', () => {
  let exp: ExportBody;
  let rows: Record<string, string>[];

  beforeAll(async () => {
    const res = await createExport(listId, 'csv');
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/v1/exports/${res.body.id}`);
    expect(res.body).toMatchObject({ listId, format: 'csv', rows: 0, bytes: 0, completedAt: null });
    expect(['pending', 'running', 'completed']).toContain(res.body.status);
    exp = await completed(res.body.id);
    const file = await download(exp.id);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(file.headers['content-disposition']).toBe(`attachment; filename="export-${exp.id}.csv"`);
    expect(file.raw.length).toBe(exp.bytes);
    const records = parse(file.raw) as string[][];
    expect(records[0]).toEqual(EXPECTED_HEADER);
    rows = records.slice(1).map((r) => Object.fromEntries(EXPECTED_HEADER.map((h, i) => [h, r[i]!])));
  });

  it('has one row per entry, in entry order, and records rows and bytes', async () => {
    expect(rows).toHaveLength(ENTRIES.length);
    expect(exp.rows).toBe(ENTRIES.length);
    expect(exp.completedAt).not.toBeNull();
    expect(rows.map((r) => r.last_name)).toEqual(['Smith', "'+1", 'Doe', 'Roe', 'Poe']);
    const job = await getJson<Job>(sys.app, `/v1/enrichment/jobs/${exp.id}`, tokenA);
    expect(job.body.type).toBe('export');
    expect(job.body.result).toEqual({ exportId: exp.id, rows: ENTRIES.length, bytes: exp.bytes });
    expect(job.body.progress).toEqual({ total: ENTRIES.length, processed: ENTRIES.length, succeeded: ENTRIES.length, failed: 0 });
  });

  it('carries every uploaded column, with formula cells escaped', () => {
    expect(rows[0]).toMatchObject({ 'First Name': "'=SUM(A1)", email: 'ann@example.com', phone: "'+1 202 555 0100", notes: 'plain' });
    expect(rows[1]).toMatchObject({ 'First Name': 'Bob', last_name: "'+1", email: "'@x", phone: "'-2", notes: 'a, "quoted"\nline' });
    expect(rows[2]!.notes).toBe("'\tTab");
    expect(rows[3]!.notes).toBe("'-");
    expect(rows[4]!.notes).toBe('');
  });

  it('takes each step from its latest run', () => {
    const [e1, e2, e3, e4, e5] = rows;
    expect(e1).toMatchObject({ 'rpc_score.score': '95', 'rpc_score.class': 'rpc', 'email_validation.status': 'valid', 'email_validation.role': 'false' });
    expect(JSON.parse(e1!['rpc_score.reasons']!)).toEqual([{ field: 'dob', level: 'exact', weight: 10 }]);
    expect(e1!['email_validation.reasons']).toBe('[]');
    // a leading + is escaped in step cells too
    expect(e1).toMatchObject({ 'phone_normalization.e164': "'+12025550100", 'phone_normalization.valid': 'true', 'phone_normalization.country': 'US' });
    expect(e2).toMatchObject({ 'rpc_score.class': '', 'rpc_score.skipped': 'no_contact', 'email_validation.status': 'invalid', 'email_validation.email': "'@x" });
    expect(e3).toMatchObject({ 'rpc_score.class': 'wpc', 'email_validation.skipped': 'missing_input', 'phone_normalization.skipped': 'missing_input' });
    expect(e4).toMatchObject({ 'rpc_score.class': 'review', 'email_validation.status': 'valid' });
    for (const h of EXPECTED_HEADER.slice(5)) expect(e5![h], h).toBe('');
  });

  it('shows the error of a step whose latest run raised, and clears one a later run answered', () => {
    expect(rows[3]).toMatchObject({ 'phone_normalization.error': 'phone step exploded', 'phone_normalization.e164': '', 'phone_normalization.valid': '' });
    expect(rows[1]!['email_validation.error']).toBe('');
    expect(rows.filter((r) => r['phone_normalization.error'] !== '')).toHaveLength(1);
  });

  it('writes the same file again when the handler runs twice, without duplicating a part', async () => {
    const before = await sql<{ part: number; data: Buffer }>('SELECT part, data FROM export_parts WHERE export_id = $1::uuid ORDER BY part', [exp.id]);
    const [row] = await sql<JobRow>('SELECT * FROM enrichment_jobs WHERE id = $1::uuid', [exp.id]);
    const handler = exportHandler({ config: sys.config, pool: sys.services.pool });
    const ctx = { job: row!, payload: row!.payload, attempt: 2, signal: new AbortController().signal, log: pino({ level: 'silent' }) };
    await handler(ctx);
    await handler(ctx);
    const after = await sql<{ part: number; data: Buffer }>('SELECT part, data FROM export_parts WHERE export_id = $1::uuid ORDER BY part', [exp.id]);
    expect(after.map((p) => p.part)).toEqual(before.map((p) => p.part));
    expect(Buffer.concat(after.map((p) => p.data)).equals(Buffer.concat(before.map((p) => p.data)))).toBe(true);
    const again = await getJson<ExportBody>(sys.app, `/v1/exports/${exp.id}`, tokenA);
    expect(again.body).toMatchObject({ rows: exp.rows, bytes: exp.bytes });
  });
});

describe('JSONL export', () => {
  it('writes one {id, data, enrichment} object a line, unescaped, latest run winning', async () => {
    const res = await createExport(listId, 'jsonl');
    expect(res.status).toBe(202);
    const exp = await completed(res.body.id);
    const file = await download(exp.id);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('application/x-ndjson');
    expect(file.headers['content-disposition']).toBe(`attachment; filename="export-${exp.id}.jsonl"`);
    expect(file.text.endsWith('\n')).toBe(true);
    const lines = file.text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(ENTRIES.length);
    expect(exp.rows).toBe(ENTRIES.length);
    expect(lines.map((l) => l.id)).toEqual(entryIds);
    expect(lines.map((l) => l.data)).toEqual(ENTRIES);
    expect(lines[0]!.enrichment).toEqual({ rpc_score: RUN_A[0]![0].rpc_score, ...RUN_B[0]![0] });
    expect(lines[1]!.enrichment).toEqual({ ...RUN_A[1]![0], ...RUN_B[1]![0] });
    expect(lines[1]).not.toHaveProperty('errors');
    expect(lines[3]!.errors).toEqual({ phone_normalization: 'phone step exploded' });
    expect(lines[4]).toEqual({ id: entryIds[4], data: ENTRIES[4], enrichment: {} });
  });
});

describe('a file of several parts', () => {
  it('pages through every entry and streams the parts in order', async () => {
    const res = await createExport(bigListId, 'csv');
    const exp = await completed(res.body.id);
    const parts = await sql<{ part: number; size: number }>('SELECT part, octet_length(data) AS size FROM export_parts WHERE export_id = $1::uuid ORDER BY part', [exp.id]);
    expect(parts.length).toBe(Math.ceil(exp.bytes / PART_SIZE));
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts.slice(0, -1).every((p) => p.size === PART_SIZE)).toBe(true);
    const file = await download(exp.id);
    const records = parse(file.raw) as string[][];
    expect(records[0]).toEqual(['First Name', 'last_name', 'email', 'phone', 'notes']);
    expect(records).toHaveLength(2501);
    expect(records.slice(1).map((r) => r[0])).toEqual(Array.from({ length: 2500 }, (_, i) => `n${i + 1}`));
    expect(exp.rows).toBe(2500);
  });
});

describe('retries', () => {
  it('starts the file over: parts a failed attempt left are replaced, not added to', async () => {
    const res = await postJson<Job>(sys.app, '/v1/enrichment/jobs', tokenA, { type: 'export', payload: { listId, format: 'csv' }, tags: [FAIL_FIRST] });
    expect(res.status).toBe(202);
    // Submitted through the generic endpoint: the handler records the export itself.
    const exp = await completed(res.body.id);
    const job = await getJson<Job>(sys.app, `/v1/enrichment/jobs/${exp.id}`, tokenA);
    expect(job.body.attempts).toBe(2);
    const file = await download(exp.id);
    expect(file.text).not.toContain('GARBAGE');
    expect(file.raw.length).toBe(exp.bytes);
    expect((parse(file.raw) as string[][]).length).toBe(ENTRIES.length + 1);
    const [count] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM export_parts WHERE export_id = $1::uuid', [exp.id]);
    expect(count!.n).toBe(Math.ceil(exp.bytes / PART_SIZE));
  });
});

describe('a list that is gone', () => {
  it('fails the attempt for good: no retry can write it', async () => {
    const jobId = randomUUID();
    const payload = { listId: randomUUID(), format: 'csv' };
    await sql(
      `INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, payload, max_attempts, timeout_ms)
       VALUES ($1::uuid, $2::uuid, 'export', 'running', 3, $3::jsonb, 3, 60000)`,
      [jobId, tenantA, JSON.stringify(payload)],
    );
    const [row] = await sql<JobRow>('SELECT * FROM enrichment_jobs WHERE id = $1::uuid', [jobId]);
    const handler = exportHandler({ config: sys.config, pool: sys.services.pool });
    const run = handler({ job: row!, payload, attempt: 1, signal: new AbortController().signal, log: pino({ level: 'silent' }) });
    await expect(run).rejects.toMatchObject({ name: 'PermanentJobError', code: 'list_not_found' });
  });
});

describe('before completion', () => {
  it('answers 409 to a download until the export is completed', async () => {
    const res = await createExport(heldListId, 'csv');
    expect(res.status).toBe(202);
    const early = await download(res.body.id);
    expect(early.status).toBe(409);
    expect((JSON.parse(early.text) as ErrorBody).error.code).toBe('conflict');
    await sleep(200);
    const still = await getJson<ExportBody>(sys.app, `/v1/exports/${res.body.id}`, tokenA);
    expect(['pending', 'running']).toContain(still.body.status);
    expect((await download(res.body.id)).status).toBe(409);
    release();
    const exp = await completed(res.body.id);
    const file = await download(exp.id);
    expect(file.status).toBe(200);
    expect(file.text).toBe('First Name,last_name,email,phone,notes\n');
  });
});

describe('tenancy and validation', () => {
  let exportId: string;
  beforeAll(async () => {
    const res = await createExport(listId, 'jsonl');
    exportId = res.body.id;
    await completed(exportId);
  });

  it("answers 404 for another tenant's export, its download, and leaves it out of the listing", async () => {
    expect((await getJson(sys.app, `/v1/exports/${exportId}`, tokenB)).status).toBe(404);
    expect((await download(exportId, tokenB)).status).toBe(404);
    const list = await getJson<{ items: ExportBody[] }>(sys.app, '/v1/exports', tokenB);
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
    expect((await getJson(sys.app, `/v1/exports/${randomUUID()}`, tokenA)).status).toBe(404);
  });

  it("answers 422 for another tenant's list or no list, naming listId", async () => {
    for (const [url, body, path] of [
      ['/v1/exports', { listId, format: 'csv' }, 'listId'],
      ['/v1/exports', { listId: randomUUID(), format: 'csv' }, 'listId'],
      ['/v1/enrichment/jobs', { type: 'export', payload: { listId, format: 'csv' } }, 'payload.listId'],
    ] as const) {
      const res = await postJson<ErrorBody>(sys.app, url, tokenB, body);
      expect(res.status, url).toBe(422);
      expect(res.body.error.details.map((d) => d.path)).toEqual([path]);
    }
  });

  it('answers 400 for a bad body or id', async () => {
    const bad = await postJson<ErrorBody>(sys.app, '/v1/exports', tokenA, { listId, format: 'xlsx', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d) => d.path).sort()).toEqual(['extra', 'format']);
    const job = await postJson<ErrorBody>(sys.app, '/v1/enrichment/jobs', tokenA, { type: 'export', payload: { listId } });
    expect(job.status).toBe(400);
    expect(job.body.error.details.map((d) => d.path)).toEqual(['payload.format']);
    expect((await getJson(sys.app, '/v1/exports/not-a-uuid', tokenA)).status).toBe(400);
    expect((await getJson(sys.app, '/v1/exports?cursor=nope', tokenA)).status).toBe(400);
    expect((await getJson(sys.app, '/v1/exports?limit=501', tokenA)).status).toBe(400);
  });

  it('answers a repeated Idempotency-Key with the same export, 200', async () => {
    const key = randomUUID();
    const first = await postJson<ExportBody>(sys.app, '/v1/exports', tokenA, { listId, format: 'csv' }, { 'idempotency-key': key });
    const again = await postJson<ExportBody>(sys.app, '/v1/exports', tokenA, { listId, format: 'csv' }, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    await completed(first.body.id);
  });

  it('documents the endpoints in the OpenAPI document', async () => {
    const doc = (await sys.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };
    expect(Object.keys(doc.paths['/v1/exports']!).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/v1/exports/{id}']!.get).toBeDefined();
    expect(Object.keys(doc.paths['/v1/exports/{id}/download']!.get!.responses['200']!.content!).sort()).toEqual(['application/gzip', 'application/x-ndjson', 'text/csv']);
  });

  it('lists exports newest first, page by page', async () => {
    const all = await getJson<{ items: ExportBody[]; nextCursor: string | null }>(sys.app, '/v1/exports?limit=500', tokenA);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.items.length).toBeGreaterThanOrEqual(5);
    const created = all.body.items.map((e) => e.createdAt);
    expect([...created].sort().reverse()).toEqual(created);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/exports?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await getJson<{ items: ExportBody[]; nextCursor: string | null }>(sys.app, url, tokenA);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((e) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((e) => e.id));
  });
});
