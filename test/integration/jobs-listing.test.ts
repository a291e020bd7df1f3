// GET /v1/enrichment/jobs against real PostgreSQL: every filter and their combinations, paging
// to the end (newest first, no duplicates, no gaps), tenancy, and 400s naming the field.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { JOB_STATUSES, type JobStatus } from '../../src/jobs/status.js';
import { getJson, postJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

interface Seeded {
  id: string;
  tenantId: string;
  type: string;
  status: JobStatus;
  tags: string[];
  error: string | null;
  /** microseconds since the epoch, as PostgreSQL keeps created_at */
  micros: bigint;
}

interface Page {
  items: Job[];
  nextCursor: string | null;
}

interface ErrorBody {
  error: { code: string; details: { path: string }[] };
}

let sys: TestSystem;
let tokenA: string;
let tokenB: string;
const tenantA = randomUUID();
const tenantB = randomUUID();
const jobs: Seeded[] = [];

const TYPES = ['test_job', 'email_validation', 'list_enrichment'];
const TAGS = [[], ['red'], ['red', 'blue'], ['blue'], ['green', 'red'], ['50%_off']];
const ERRORS = [null, 'Provider HUNTER timed out after 30000 ms', 'HTTP 429 from apollo', 'entry 7 failed: mailbox full'];
const BASE = 1_700_000_000_000_000n;

function seedJobs(tenantId: string, n: number): Seeded[] {
  return Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    tenantId,
    type: TYPES[i % 3]!,
    status: JOB_STATUSES[(i * 5) % JOB_STATUSES.length]!,
    tags: TAGS[i % TAGS.length]!,
    error: ERRORS[(i >> 1) % ERRORS.length]!,
    // groups of four share a microsecond: the id must break those ties
    micros: BASE + BigInt(Math.floor(i / 4)) * 1_000_001n,
  }));
}

const INSERT = `
INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, payload, tags, max_attempts, timeout_ms, last_error, created_at, updated_at, dispatched_at)
SELECT j.id, j.tenant_id, j.type, j.status, 3, '{}', ARRAY(SELECT jsonb_array_elements_text(j.tags)), 3, 60000,
       CASE WHEN j.error IS NOT NULL THEN jsonb_build_object('message', j.error, 'at', now()) END,
       'epoch'::timestamptz + j.micros * interval '1 microsecond', now(), now()
FROM json_to_recordset($1::json) AS j(id uuid, tenant_id uuid, type text, status text, tags jsonb, error text, micros bigint)`;

/** Newest first: created_at DESC, then id DESC (uuid order is the order of its lower-case hex). */
const newestFirst = (a: Seeded, b: Seeded) => (a.micros !== b.micros ? (a.micros > b.micros ? -1 : 1) : a.id > b.id ? -1 : a.id < b.id ? 1 : 0);

function expected(where: (j: Seeded) => boolean, tenantId = tenantA): string[] {
  return jobs.filter((j) => j.tenantId === tenantId && where(j)).sort(newestFirst).map((j) => j.id);
}

/** Follows nextCursor to the end; returns every id in the order served. */
async function pageAll(query: string, limit: number, token = tokenA, base = '/v1/enrichment'): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const sep = query ? '&' : '';
    const res: { status: number; body: Page } = await getJson<Page>(sys.app, `${base}/jobs?${query}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    ids.push(...res.body.items.map((j) => j.id));
    cursor = res.body.nextCursor;
    if (cursor === null) return ids;
    expect(res.body.items.length).toBe(limit);
  }
  throw new Error('more than 1000 pages');
}

const iso = (micros: bigint) => new Date(Number(micros / 1000n)).toISOString();
const has = (text: string) => (j: Seeded) =>
  [j.id, j.type, ...j.tags, j.error ?? ''].some((f) => f.toLowerCase().includes(text.toLowerCase()));

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0 });
  tokenA = await sys.token({ tenantId: tenantA });
  tokenB = await sys.token({ tenantId: tenantB });
  jobs.push(...seedJobs(tenantA, 150), ...seedJobs(tenantB, 40));
  await sys.services.pool.query('INSERT INTO tenants (id) VALUES ($1::uuid), ($2::uuid) ON CONFLICT DO NOTHING', [tenantA, tenantB]);
  await sys.services.pool.query(INSERT, [JSON.stringify(jobs.map((j) => ({ ...j, tenant_id: j.tenantId, micros: j.micros.toString() })))]);
});
afterAll(async () => {
  await sys?.close();
});

describe('GET /v1/enrichment/jobs', () => {
  it('pages every job of the tenant newest first, with no duplicates or gaps, and null on the last page', async () => {
    const all = expected(() => true);
    expect(await pageAll('', 7)).toEqual(all);
    expect(await pageAll('', 150)).toEqual(all);
    expect(await pageAll('', 500)).toEqual(all);
    const first = await getJson<Page>(sys.app, '/v1/enrichment/jobs', tokenA);
    expect(first.body.items).toHaveLength(50); // the default limit
    expect(first.body.items[0]).toMatchObject({ id: all[0], tenantId: tenantA });
    expect(first.body.nextCursor).not.toBeNull();
  });

  it('filters by one status and by a comma list of statuses', async () => {
    for (const s of JOB_STATUSES) expect(await pageAll(`status=${s}`, 4)).toEqual(expected((j) => j.status === s));
    expect(await pageAll('status=failed,cancelled', 5)).toEqual(expected((j) => j.status === 'failed' || j.status === 'cancelled'));
    expect(await pageAll('status=pending,%20running,pending', 6)).toEqual(expected((j) => j.status === 'pending' || j.status === 'running'));
  });

  it('filters by type, tag and creation time', async () => {
    expect(await pageAll('type=email_validation', 9)).toEqual(expected((j) => j.type === 'email_validation'));
    expect(await pageAll('type=nothing_like_it', 9)).toEqual([]);
    expect(await pageAll('tag=red', 8)).toEqual(expected((j) => j.tags.includes('red')));
    expect(await pageAll('tag=re', 8)).toEqual([]); // a tag matches whole
    expect(await pageAll(`tag=${encodeURIComponent('50%_off')}`, 8)).toEqual(expected((j) => j.tags.includes('50%_off')));
    const from = BASE + 10n * 1_000_001n;
    const to = BASE + 25n * 1_000_001n;
    expect(await pageAll(`createdAfter=${iso(from)}`, 10)).toEqual(expected((j) => j.micros >= from));
    expect(await pageAll(`createdBefore=${iso(to)}`, 10)).toEqual(expected((j) => j.micros < to));
    expect(await pageAll(`createdAfter=${iso(from)}&createdBefore=${iso(to)}`, 3)).toEqual(expected((j) => j.micros >= from && j.micros < to));
  });

  it('searches q case-insensitively in the id, type, tags and last error message, taking % and _ literally', async () => {
    for (const q of ['timed OUT', 'hunter', 'APOLLO', 'mailbox', 'list_enrich', 'blue', 'gree', '50%_', '%', '_']) {
      expect(await pageAll(`q=${encodeURIComponent(q)}`, 6), q).toEqual(expected(has(q)));
    }
    const target = jobs.find((j) => j.tenantId === tenantA)!;
    expect(await pageAll(`q=${target.id}`, 5)).toEqual([target.id]);
    expect(await pageAll(`q=${target.id.toUpperCase()}`, 5)).toEqual([target.id]);
    expect(await pageAll(`q=${target.id.slice(0, 13)}`, 5)).toEqual(expected(has(target.id.slice(0, 13))));
    expect(await pageAll('q=nothing%20matches%20this', 5)).toEqual([]);
  });

  it('finds a job by the tags and error it has now, not the ones it had (the search table follows updates)', async () => {
    const tenant = randomUUID();
    const token = await sys.token({ tenantId: tenant });
    const made = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: {}, tags: ['before-tag'] });
    expect(made.status).toBe(202);
    const id = made.body.id;
    const ids = async (query: string) => (await getJson<Page>(sys.app, `/v1/enrichment/jobs?${query}`, token)).body.items.map((j) => j.id);
    expect(await ids('tag=before-tag')).toEqual([id]);
    expect(await ids('q=before-tag')).toEqual([id]);

    const patched = await sys.app.inject({ method: 'PATCH', url: `/v1/enrichment/jobs/${id}`, headers: { authorization: `Bearer ${token}` }, payload: { tags: ['after-tag'] } });
    expect(patched.statusCode).toBe(200);
    expect(await ids('tag=before-tag')).toEqual([]);
    expect(await ids('q=before')).toEqual([]);
    expect(await ids('tag=after-tag')).toEqual([id]);

    // as a worker's failure writes it (the system path, outside the tenant's transaction)
    await sys.services.pool.query("UPDATE enrichment_jobs SET last_error = jsonb_build_object('message', 'Quota Exhausted at zeta') WHERE id = $1::uuid", [id]);
    expect(await ids('q=quota%20exhausted')).toEqual([id]);
    await sys.services.pool.query("UPDATE enrichment_jobs SET last_error = jsonb_build_object('message', 'other trouble') WHERE id = $1::uuid", [id]);
    expect(await ids('q=quota')).toEqual([]);
    expect(await ids('q=other%20trouble')).toEqual([id]);
    // a status change alone leaves the search row as it is
    await sys.services.pool.query("UPDATE enrichment_jobs SET status = 'cancelled', completed_at = now() WHERE id = $1::uuid", [id]);
    expect(await ids('status=cancelled&q=other&tag=after-tag')).toEqual([id]);
  });

  it('combines filters (all must hold)', async () => {
    const from = BASE + 5n * 1_000_001n;
    const cases: [string, (j: Seeded) => boolean][] = [
      ['status=completed&type=test_job&tag=red', (j) => j.status === 'completed' && j.type === 'test_job' && j.tags.includes('red')],
      ['status=failed,cancelled,pending&type=email_validation&tag=red', (j) => ['failed', 'cancelled', 'pending'].includes(j.status) && j.type === 'email_validation' && j.tags.includes('red')],
      ['status=failed,retrying&q=timed', (j) => ['failed', 'retrying'].includes(j.status) && has('timed')(j)],
      ['type=list_enrichment&q=blue', (j) => j.type === 'list_enrichment' && has('blue')(j)],
      ['tag=blue&q=apollo', (j) => j.tags.includes('blue') && has('apollo')(j)],
      [`tag=red&createdAfter=${iso(from)}`, (j) => j.tags.includes('red') && j.micros >= from],
      [`status=completed,failed,cancelled&type=test_job&tag=red&q=a&createdAfter=${iso(from)}&createdBefore=${iso(BASE + 30n * 1_000_001n)}`,
        (j) => ['completed', 'failed', 'cancelled'].includes(j.status) && j.type === 'test_job' && j.tags.includes('red') && has('a')(j) && j.micros >= from && j.micros < BASE + 30n * 1_000_001n],
    ];
    for (const [query, where] of cases) {
      const want = expected(where);
      expect(await pageAll(query, 2), query).toEqual(want);
      expect(await pageAll(query, 500), query).toEqual(want);
    }
  });

  it("never lists another tenant's jobs, whatever the filter", async () => {
    const others = new Set(jobs.filter((j) => j.tenantId === tenantB).map((j) => j.id));
    for (const query of ['', 'tag=red', 'q=timed', 'status=completed', 'type=test_job']) {
      const ids = await pageAll(query, 500);
      expect(ids.some((id) => others.has(id))).toBe(false);
    }
    const theirs = jobs.find((j) => j.tenantId === tenantB)!;
    expect(await pageAll(`q=${theirs.id}`, 5)).toEqual([]);
    expect(await pageAll('', 11, tokenB)).toEqual(expected(() => true, tenantB));
    // a cursor is a position, not a permission: B's cursor read by A lists only A's jobs
    const pageB = await getJson<Page>(sys.app, '/v1/enrichment/jobs?limit=3', tokenB);
    const res = await getJson<Page>(sys.app, `/v1/enrichment/jobs?limit=500&cursor=${pageB.body.nextCursor!}`, tokenA);
    expect(res.body.items.every((j) => j.tenantId === tenantA)).toBe(true);
    expect((await getJson<Page>(sys.app, '/v1/enrichment/jobs', await sys.token())).body).toEqual({ items: [], nextCursor: null });
  });

  it('answers under the /api/enrichment alias, and GET /jobs/:id is still a job', async () => {
    expect(await pageAll('tag=green', 4, tokenA, '/api/enrichment')).toEqual(expected((j) => j.tags.includes('green')));
    const one = expected(() => true)[0]!;
    const res = await getJson(sys.app, `/v1/enrichment/jobs/${one}`, tokenA);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(one);
  });

  it('answers 400 naming the field for bad parameters', async () => {
    const cases: [string, string][] = [
      ['limit=501', 'limit'],
      ['limit=0', 'limit'],
      ['limit=ten', 'limit'],
      ['status=finished', 'status'],
      ['status=pending,nope', 'status'],
      ['status=', 'status'],
      ['createdAfter=yesterday', 'createdAfter'],
      ['createdBefore=2024-13-01T00:00:00Z', 'createdBefore'],
      ['cursor=not-a-cursor', 'cursor'],
      [`q=${'x'.repeat(201)}`, 'q'],
      [`tag=${'t'.repeat(65)}`, 'tag'],
    ];
    for (const [query, field] of cases) {
      const res = await getJson<ErrorBody>(sys.app, `/v1/enrichment/jobs?${query}`, tokenA);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe('validation_error');
      expect(res.body.error.details.map((d) => d.path), query).toContain(field);
    }
    expect((await getJson(sys.app, '/v1/enrichment/jobs', 'not-a-token')).status).toBe(401);
  });
});
