// GET /metrics: every counter and histogram moves by what jobs of each outcome did, the text
// parses with a real Prometheus text parser, and no label carries a job or tenant id.
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { postJson } from '../helpers/api.js';
import { LOCAL_STEPS, seedList, seedPlan } from '../helpers/lists.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

interface Sample {
  labels?: Record<string, string>;
  value?: string;
}
interface Family {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Sample[];
}
// The parser ships CommonJS without types: its shape is declared above.
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

let sys: TestSystem;

beforeAll(async () => {
  sys = await startTestSystem({ workers: 1 });
});
afterAll(async () => {
  await sys?.close();
});

type Families = Map<string, Family>;

/**
 * Scrapes and parses. The parser folds a labelled histogram's buckets into one sample and drops
 * its labels and _count, so the counts come from a second parse with histograms read as
 * untyped, where each _bucket, _sum and _count series is a family of its own with its labels.
 */
async function scrape(): Promise<{ text: string; families: Families; untyped: Families }> {
  const res = await sys.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  // A name may come back as several runs of lines (one per label set): their samples are merged.
  const byName = (fs: Family[]) => {
    const map: Families = new Map();
    for (const f of fs) {
      const seen = map.get(f.name);
      if (seen) seen.metrics.push(...f.metrics);
      else map.set(f.name, { ...f, metrics: [...f.metrics] });
    }
    return map;
  };
  return {
    text: res.body,
    families: byName(parsePrometheus(res.body)),
    untyped: byName(parsePrometheus(res.body.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'))),
  };
}

const matches = (s: Sample, labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v);

/** A counter's or gauge's value for the labels (0 when the series does not exist yet). */
function value(families: Families, name: string, labels: Record<string, string> = {}): number {
  const f = families.get(name);
  return (f?.metrics ?? []).filter((s) => matches(s, labels)).reduce((n, s) => n + Number(s.value ?? 0), 0);
}

/** A histogram's observation count for the labels, from the untyped parse. */
function count(untyped: Families, name: string, labels: Record<string, string>): number {
  return value(untyped, `${name}_count`, labels);
}

describe('GET /metrics', () => {
  it('counts submits, starts, completions, retries, failures, dead letters, waits, runs and entries', async () => {
    const before = await scrape();
    const tenantId = randomUUID();
    const token = await sys.token({ tenantId });
    const listId = await seedList(sys.services.pool, tenantId, [
      { first_name: 'Ann', last_name: 'Lee', email: 'ann@example.com', phone: '+1 415 555 0101' },
      { first_name: 'Bob', last_name: 'Ray', email: 'bob@example.org' },
      { first_name: 'Cy', last_name: 'Tan', email: 'not an email' },
    ]);
    const planId = await seedPlan(sys.services.pool, tenantId, LOCAL_STEPS);
    const bodies = [
      { type: 'test_job', payload: {} },
      { type: 'test_job', payload: { sleepMs: 30 } },
      { type: 'test_job', payload: { fail: 'once' } },
      { type: 'test_job', payload: { fail: 'always' }, maxAttempts: 2 },
      { type: 'list_enrichment', payload: { listId, planId } },
    ];
    const ids: string[] = [];
    for (const body of bodies) {
      const res = await postJson(sys.app, '/v1/enrichment/jobs', token, body);
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    const finished = await waitFor(async () => {
      const { rows } = await sys.services.pool.query<{ id: string; status: Job['status'] }>('SELECT id, status FROM enrichment_jobs WHERE id = ANY($1::uuid[])', [ids]);
      return rows.every((r) => ['completed', 'failed'].includes(r.status)) ? new Map(rows.map((r) => [r.id, r.status])) : null;
    }, 30_000);
    expect(ids.map((id) => finished.get(id))).toEqual(['completed', 'completed', 'completed', 'failed', 'completed']);
    // At least one heartbeat interval (500 ms in tests) after the start.
    await waitFor(async () => value((await scrape()).families, 'enrichd_worker_heartbeats_total') > value(before.families, 'enrichd_worker_heartbeats_total'));
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string>) => value(after.families, name, labels) - value(before.families, name, labels);
    const deltaCount = (name: string, labels: Record<string, string>) => count(after.untyped, name, labels) - count(before.untyped, name, labels);
    const test = { type: 'test_job' };
    const list = { type: 'list_enrichment' };
    expect(delta('enrichd_jobs_submitted_total', test)).toBe(4);
    expect(delta('enrichd_jobs_submitted_total', list)).toBe(1);
    // 1 + 1 + 2 (once: fail, then succeed) + 2 (always, maxAttempts 2) attempts; the list job's one planning attempt.
    expect(delta('enrichd_jobs_started_total', test)).toBe(6);
    expect(delta('enrichd_jobs_started_total', list)).toBe(1);
    expect(delta('enrichd_jobs_completed_total', test)).toBe(3);
    expect(delta('enrichd_jobs_completed_total', list)).toBe(1);
    expect(delta('enrichd_jobs_retried_total', test)).toBe(2);
    expect(delta('enrichd_jobs_failed_total', test)).toBe(1);
    expect(delta('enrichd_jobs_dead_lettered_total', test)).toBe(1);
    expect(delta('enrichd_jobs_failed_total', list) + delta('enrichd_jobs_retried_total', list)).toBe(0);
    // Queue wait: first attempts only.
    expect(deltaCount('enrichd_job_queue_wait_seconds', test)).toBe(4);
    expect(deltaCount('enrichd_job_queue_wait_seconds', list)).toBe(1);
    // Run time: every attempt that ended through a worker, by how it ended (a list job's run spans chunks: not observed).
    expect(deltaCount('enrichd_job_run_seconds', { ...test, status: 'completed' })).toBe(3);
    expect(deltaCount('enrichd_job_run_seconds', { ...test, status: 'retrying' })).toBe(2);
    expect(deltaCount('enrichd_job_run_seconds', { ...test, status: 'failed' })).toBe(1);
    expect(deltaCount('enrichd_job_run_seconds', list)).toBe(0);
    expect(delta('enrichd_list_entries_processed_total', { outcome: 'succeeded' }) + delta('enrichd_list_entries_processed_total', { outcome: 'failed' })).toBe(3);
    // HTTP: labelled by route pattern, not raw URL.
    expect(deltaCount('enrichd_http_request_duration_seconds', { method: 'POST', route: '/v1/enrichment/jobs', status_code: '202' })).toBe(5);
    expect(count(after.untyped, 'enrichd_http_request_duration_seconds', { method: 'GET', route: '/metrics', status_code: '200' })).toBeGreaterThan(0);

    // Scrape-time gauges: the queue is drained, nothing waits.
    const depth = after.families.get('enrichd_queue_depth');
    expect(depth?.type).toBe('GAUGE');
    expect(depth?.metrics.map((s) => s.labels?.state).sort()).toEqual(['active', 'delayed', 'waiting']);
    expect(value(after.families, 'enrichd_queue_depth', { state: 'waiting' })).toBe(0);
    expect(after.families.get('enrichd_queue_oldest_waiting_seconds')?.metrics).toHaveLength(1);
    expect(value(after.families, 'enrichd_queue_oldest_waiting_seconds')).toBe(0);
    expect(after.families.get('enrichd_worker_in_flight')?.type).toBe('GAUGE');
    // prom-client's default process metrics.
    expect(after.families.has('process_cpu_user_seconds_total')).toBe(true);
    expect(after.families.has('nodejs_eventloop_lag_seconds')).toBe(true);

    expect(after.families.get('enrichd_jobs_completed_total')?.type).toBe('COUNTER');
    expect(after.families.get('enrichd_job_run_seconds')?.type).toBe('HISTOGRAM');
  });

  it('parses whole, and no label value is a job, tenant or worker id', async () => {
    const { text, families } = await scrape();
    // The parser kept every family the text declares.
    const declared = text.split('\n').filter((l) => l.startsWith('# TYPE ')).length;
    expect(families.size).toBe(declared);
    const ids = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
    for (const f of families.values()) {
      expect(f.name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      if (f.name.startsWith('enrichd_')) expect(f.help.length).toBeGreaterThan(0);
      for (const s of f.metrics) for (const v of Object.values(s.labels ?? {})) expect(v).not.toMatch(ids);
    }
    expect(text).not.toContain(sys.parts.workers[0]!.id);
  });

  it('answers the oldest waiting age from PostgreSQL while jobs wait', async () => {
    const tenantId = randomUUID();
    const token = await sys.token({ tenantId });
    // Recorded and waiting, with no worker taking it: a job whose submit time is a minute ago.
    const res = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: {}, delayMs: 3_600_000 });
    expect(res.status).toBe(202);
    await sys.services.pool.query("UPDATE enrichment_jobs SET status = 'pending', run_at = NULL, created_at = now() - interval '60 seconds' WHERE id = $1::uuid", [res.body.id]);
    const { families } = await scrape();
    expect(value(families, 'enrichd_queue_oldest_waiting_seconds')).toBeGreaterThanOrEqual(59);
    await sys.services.pool.query("UPDATE enrichment_jobs SET status = 'cancelled', completed_at = now() WHERE id = $1::uuid", [res.body.id]);
  });
});
