// Governance benchmark (issue 8): a tenant with 1,000,000 entries (and a result row per entry),
// then (1) its tenant_export with the peak RSS of the worker process that writes the archive,
// and (2) its tenant_cleanup's wall time, both run by one `enrichd worker` (WORKER_COUNT=1, so
// the worker is that very process) against `enrichd api`.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { signToken } from '../src/api/token.js';
import { startApi, startWorker } from './lib/enrichd-procs.js';
import { type BenchEnv, openBenchEnv } from './lib/env.js';
import { febrlEntry } from './lib/people.js';
import { memoryOf } from './lib/procfs.js';
import { stopAll } from './lib/proc.js';
import type { BenchModule, Figure } from './lib/report.js';
import { seedList } from './lib/seed-list.js';
import { sampleCpu, stealBetween } from './lib/steal.js';

const ENTRIES = Number(process.env.BENCH_GOVERNANCE_ENTRIES ?? 1_000_000);
const RSS_TARGET_MB = 300;
const CLEANUP_TARGET_S = 60;

const log = (line: string) => process.stderr.write(`  ${line}\n`);

export const bench: BenchModule = {
  name: 'governance',
  async run() {
    const env = await openBenchEnv();
    try {
      return await measure(env);
    } finally {
      await stopAll();
      await env.close();
    }
  },
};

interface JobView {
  id: string;
  status: string;
  result: Record<string, unknown> | null;
}

async function submit(base: string, token: string, type: string): Promise<string> {
  const res = await fetch(`${base}/v1/enrichment/jobs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ type, payload: {} }) });
  if (res.status !== 202) throw new Error(`submit ${type}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** Polls the job until it has finished, calling `tick` between polls. */
async function finished(base: string, token: string, id: string, tick: () => void = () => undefined): Promise<JobView> {
  for (;;) {
    tick();
    const job = (await (await fetch(`${base}/v1/enrichment/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as JobView;
    if (job.status === 'completed') return job;
    if (job.status === 'failed' || job.status === 'cancelled') throw new Error(`job ${id} ${job.status}: ${JSON.stringify(job)}`);
    await sleep(100);
  }
}

async function measure(env: BenchEnv): Promise<Figure[]> {
  log(`seeding ${ENTRIES} entries and a result row per entry`);
  const seed0 = performance.now();
  const listId = await seedList(env, `governance ${ENTRIES}`, ENTRIES, febrlEntry);
  const seedSecs = (performance.now() - seed0) / 1000;
  const jobId = randomUUID();
  await env.query(
    `INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, payload, max_attempts, timeout_ms, started_at, completed_at)
     VALUES ($1, $2, 'list_enrichment', 'completed', 3, $3, 3, 60000, now(), now())`,
    [jobId, env.tenantId, JSON.stringify({ listId })],
  );
  await env.query(
    `INSERT INTO entry_results (entry_id, job_id, tenant_id, list_id, results, outcomes)
     SELECT id, $1, $2, $3,
       json_build_object('rpc_score', json_build_object('score', id % 100, 'class', 'review', 'reasons', '[]'::json),
                         'email_validation', json_build_object('status', 'valid', 'syntax', true)),
       '{"rpc_score":"review","email_validation":"valid"}'
     FROM list_entries WHERE list_id = $3`,
    [jobId, env.tenantId, listId],
  );
  await env.query('ANALYZE entry_results');

  const prefix = env.prefix('governance');
  const { api, port } = await startApi(env, prefix);
  const worker = await startWorker(env, prefix);
  const base = `http://127.0.0.1:${port}`;
  const admin = await signToken(env.jwtSecret, { tenantId: env.tenantId, sub: 'bench-admin', roles: ['admin'], ttl: '2h' });
  const pid = worker.proc.pid!;
  const idle = memoryOf(pid).rss;

  // (1) the export: the worker's peak RSS over its whole life (VmHWM), sampled as it runs too.
  const cpu0 = sampleCpu();
  const t0 = performance.now();
  let peak = 0;
  const exportId = await submit(base, admin, 'tenant_export');
  const exported = await finished(base, admin, exportId, () => {
    peak = Math.max(peak, memoryOf(pid).hwm);
  });
  peak = Math.max(peak, memoryOf(pid).hwm);
  const exportSecs = (performance.now() - t0) / 1000;
  const [file] = await env.query<{ bytes: string; rows: string }>('SELECT bytes::text, rows::text FROM exports WHERE id = $1', [exportId]);
  log(`export: ${exportSecs.toFixed(1)} s, ${(Number(file!.bytes) / 1e6).toFixed(1)} MB archive, ${file!.rows} rows; worker RSS idle ${idle.toFixed(0)} MB, peak ${peak.toFixed(0)} MB`);
  const files = (exported.result as { files?: Record<string, number> }).files ?? {};
  if (files['entries.jsonl'] !== ENTRIES) throw new Error(`export wrote ${files['entries.jsonl']} entries of ${ENTRIES}`);

  // (2) the cleanup, from submit to completed.
  const t1 = performance.now();
  const cleanupId = await submit(base, admin, 'tenant_cleanup');
  const cleaned = await finished(base, admin, cleanupId);
  const cleanupSecs = (performance.now() - t1) / 1000;
  const tables = (cleaned.result as { tables: Record<string, number> }).tables;
  log(`cleanup: ${cleanupSecs.toFixed(1)} s, ${JSON.stringify(tables)}`);
  if (tables.list_entries !== ENTRIES || tables.entry_results !== ENTRIES) throw new Error(`cleanup removed ${tables.list_entries} entries, ${tables.entry_results} results`);
  const steal = stealBetween(cpu0, sampleCpu());
  await worker.stop();
  await api.stop();

  const fig = (f: Omit<Figure, 'steal' | 'tries'>): Figure => ({ ...f, steal, tries: 1 });
  const m = ENTRIES / 1e6;
  return [
    fig({ name: `(1) tenant_export of ${m}M entries: worker peak RSS`, unit: 'MB', value: peak, baseline: idle, target: `< ${RSS_TARGET_MB}`, pass: peak < RSS_TARGET_MB }),
    fig({ name: `(1) tenant_export of ${m}M entries: wall time`, unit: 's', value: exportSecs, baseline: Number.NaN, target: '-', pass: null }),
    fig({ name: `(2) tenant_cleanup of ${m}M entries + results`, unit: 's', value: cleanupSecs, baseline: seedSecs, target: `< ${CLEANUP_TARGET_S}`, pass: cleanupSecs < CLEANUP_TARGET_S }),
  ];
}
