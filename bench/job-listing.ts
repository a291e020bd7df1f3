// Job listing benchmark: GET /v1/enrichment/jobs over 1,000,000 jobs of 100 tenants, through
// `enrichd api` with 8 concurrent clients: p95 of filtered pages (status+type+tag) and of free
// text (q), first page and tenth (following cursors), beside a GET /jobs/:id in the same run.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { signToken } from '../src/api/token.js';
import { type BenchEnv, REDIS_URL, openBenchEnv } from './lib/env.js';
import { freePort, spawnNode, stopAll, waitForHttp } from './lib/proc.js';
import { type BenchModule, type Figure, percentile } from './lib/report.js';
import { type Measured, withStealRetry } from './lib/steal.js';

const JOBS = Number(process.env.BENCH_LISTING_JOBS ?? 1_000_000);
const CLIENTS = 8;
/** walks per client and scenario; a walk is page 1 to page 10 */
const WALKS = Number(process.env.BENCH_LISTING_WALKS ?? 12);
const PAGES = 10;
const P95_TARGET_MS = 50;

const log = (line: string) => process.stderr.write(`  ${line}\n`);

// The largest tenant (about a tenth of all jobs, see SEED): the slowest to list.
const BIG_TENANT = '00000000-0000-4000-8000-000000000000';

// Each has well over ten pages of 50 in the largest tenant. A comma list of statuses is
// among them: it cannot read the status index in order, so it takes another plan.
const FILTERS = [
  'status=completed&type=email_validation&tag=campaign-0',
  'status=failed,cancelled&type=email_validation&tag=campaign-0',
  'status=completed&type=single_lead_enrichment&tag=team-b',
];
// An error message, tag and type fragments: each matches thousands of the tenant's jobs.
const SEARCHES = ['timed out', 'campaign-1', 'lead_enrich', 'HTTP 429'];

export const bench: BenchModule = {
  name: 'job-listing',
  async run() {
    const env = await openBenchEnv();
    try {
      const started = Date.now();
      await seed(env);
      log(`seeded ${JOBS} jobs of 100 tenants in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      const port = await freePort();
      // BENCH_PROFILE_DIR=<dir>: the API runs under --cpu-prof, for finding where its time goes.
      const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
      // The seeded unfinished jobs (a third) have no tasks in Redis, as a live system's would.
      // Left so, the API (the leader) would spend the run re-queueing 300,000 of them: first
      // for the missing epoch key (as after a FLUSHALL), then at every reconcile sweep.
      const prefix = env.prefix('listing');
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      await redis.set(`${prefix}:epoch`, randomUUID());
      redis.disconnect();
      const api = spawnNode('enrichd api', [...profile, env.build.bin, 'api'], { env: env.enrichdEnv(prefix, { PORT: String(port), RECONCILE_INTERVAL: '3600000' }) });
      await waitForHttp(`http://127.0.0.1:${port}/ready`, api);
      const token = await signToken(env.jwtSecret, { tenantId: BIG_TENANT, sub: 'bench', ttl: '2h' });
      const m = await withStealRetry(() => measure(port, token, env), 0.05, 2);
      return figures(m);
    } finally {
      await stopAll();
      await env.close();
    }
  },
};

// ---------- data ----------

// 1,000,000 jobs in one statement. Tenant k of 100 has a share falling with k (the largest
// about 10%); statuses, types, tags and errors in the proportions of a live system: mostly
// completed, some failed with one of a few error shapes (with varying parts), tags from
// campaigns (a few big ones), teams and a flag. Times step back 2.6 s per job (a month).
const SEED = `
INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, payload, tags, attempts, max_attempts, timeout_ms,
  progress_processed, progress_succeeded, progress_failed, result, last_error, run_at,
  created_at, updated_at, started_at, completed_at, dispatched_at)
SELECT gen_random_uuid(),
  ('00000000-0000-4000-8000-' || lpad(to_hex(floor(100 * r0 * r0)::int), 12, '0'))::uuid,
  type, status, 1 + floor(r5 * 5)::int,
  jsonb_build_object('email', 'person' || n || '@acme' || (n % 977) || '.io'),
  tags,
  CASE WHEN status IN ('pending', 'scheduled') THEN 0 WHEN err IS NULL THEN 1 ELSE 2 END, 3, 60000,
  CASE WHEN status IN ('completed', 'failed') THEN 1 ELSE 0 END,
  CASE WHEN status = 'completed' THEN 1 ELSE 0 END,
  CASE WHEN status = 'failed' THEN 1 ELSE 0 END,
  CASE WHEN status = 'completed' THEN '{"ok": true}'::jsonb END,
  CASE WHEN err IS NOT NULL THEN jsonb_build_object('message', err, 'code', 'handler_error', 'at', created) END,
  CASE WHEN status = 'scheduled' THEN now() + interval '1 day' END,
  created, created,
  CASE WHEN status NOT IN ('pending', 'scheduled') THEN created + interval '1 second' END,
  CASE WHEN status IN ('completed', 'failed', 'cancelled') THEN created + interval '3 seconds' END,
  created
FROM (
  SELECT x.*,
    CASE WHEN r1 < 0.70 THEN 'completed' WHEN r1 < 0.80 THEN 'failed' WHEN r1 < 0.85 THEN 'cancelled'
         WHEN r1 < 0.90 THEN 'pending' WHEN r1 < 0.93 THEN 'scheduled' WHEN r1 < 0.98 THEN 'running' ELSE 'retrying' END AS status,
    CASE WHEN r2 < 0.40 THEN 'email_validation' WHEN r2 < 0.60 THEN 'single_lead_enrichment' WHEN r2 < 0.75 THEN 'company_data_update'
         WHEN r2 < 0.85 THEN 'batch_lead_enrichment' WHEN r2 < 0.95 THEN 'list_enrichment' ELSE 'export' END AS type,
    CASE WHEN r3 < 0.2 THEN '{}'::text[]
         ELSE array_remove(ARRAY['campaign-' || floor(40 * r4 * r4)::int,
                                 CASE WHEN r3 < 0.7 THEN 'team-' || chr(97 + floor(r6 * 5)::int) END,
                                 CASE WHEN r3 > 0.9 THEN 'priority' END], NULL) END AS tags,
    -- failed and retrying jobs, and completed ones that needed a second attempt, carry an error
    CASE WHEN (r1 >= 0.70 AND r1 < 0.80) OR r1 >= 0.98 OR r1 < 0.07 THEN
      CASE floor(r6 * 8)::int
        WHEN 0 THEN 'provider hunter timed out after 30000 ms'
        WHEN 1 THEN 'HTTP 429 Too Many Requests from apollo (retry after ' || (n % 60) || ' s)'
        WHEN 2 THEN 'connection reset by peer while calling pdl'
        WHEN 3 THEN 'invalid payload: leads.' || (n % 100) || '.email is not an email address'
        WHEN 4 THEN 'list ' || md5(n::text) || ' has no entries'
        WHEN 5 THEN 'error threshold exceeded: ' || (n % 40 + 10) || '% of entries failed'
        WHEN 6 THEN 'mailbox check failed for domain acme' || (n % 977) || '.io'
        ELSE 'clearbit answered 503 Service Unavailable' END END AS err
  FROM (
    SELECT n, random() AS r0, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5, random() AS r6,
      now() - make_interval(secs => ($1::int - n) * 2.6 + random() * 2) AS created
    FROM generate_series(1, $1::int) AS n
  ) AS x
) AS r`;

const TENANTS = `
INSERT INTO tenants (id) SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(k), 12, '0'))::uuid FROM generate_series(0, 99) AS k
ON CONFLICT DO NOTHING`;

const JOB_INDEXES = `
SELECT indexname, indexdef FROM pg_indexes
WHERE tablename IN ('enrichment_jobs', 'enrichment_job_search') AND indexname NOT IN ('enrichment_jobs_pkey', 'enrichment_job_search_pkey')`;

/**
 * Loads the jobs as a bulk load is done: the secondary indexes (the search table's too) are dropped, the rows written,
 * the indexes built again (far faster than growing them row by row), then ANALYZE.
 */
async function seed(env: BenchEnv): Promise<void> {
  await env.query('TRUNCATE enrichment_job_events, enrichment_jobs CASCADE');
  await env.query(TENANTS);
  const indexes = await env.query<{ indexname: string; indexdef: string }>(JOB_INDEXES);
  for (const i of indexes) await env.query(`DROP INDEX ${i.indexname}`);
  await env.query(SEED, [JOBS]);
  // One connection each, two at a time: the machine has two cores.
  const queue = [...indexes];
  await Promise.all([0, 1].map(async () => {
    for (let i = queue.shift(); i; i = queue.shift()) {
      await env.query(`SET maintenance_work_mem = '256MB'; ${i.indexdef}`);
    }
  }));
  await env.query('VACUUM ANALYZE enrichment_jobs, enrichment_job_search');
  const sizes = await env.query<{ tenant: string; n: number }>(
    'SELECT tenant_id::text AS tenant, count(*)::int AS n FROM enrichment_jobs GROUP BY 1 ORDER BY 2 DESC LIMIT 1',
  );
  log(`largest tenant ${sizes[0]?.tenant}: ${sizes[0]?.n} jobs`);
}

// ---------- measurement ----------

interface Samples {
  filterFirst: number[];
  filterTenth: number[];
  searchFirst: number[];
  searchTenth: number[];
  byId: number[];
}

interface Page {
  items: { id: string }[];
  nextCursor: string | null;
}

function get(agent: Agent, port: number, token: string, path: string): Promise<{ ms: number; body: Page }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - started;
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode} ${text.slice(0, 300)}`));
        else resolve({ ms, body: JSON.parse(text) as Page });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Page 1 to page PAGES of one query; returns the latency of the first and of the last. */
async function walk(agent: Agent, port: number, token: string, query: string): Promise<[number, number]> {
  let cursor: string | null = null;
  let first = Number.NaN;
  for (let page = 1; page <= PAGES; page++) {
    const path = `/v1/enrichment/jobs?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { ms, body } = await get(agent, port, token, path);
    if (page === 1) first = ms;
    if (page === PAGES) return [first, ms];
    if (body.nextCursor === null) throw new Error(`${query}: only ${page} pages`);
    cursor = body.nextCursor;
  }
  throw new Error('unreachable');
}

async function measure(port: number, token: string, env: BenchEnv): Promise<Samples> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const queries = [...FILTERS.map((f) => ({ kind: 'filter' as const, query: f })), ...SEARCHES.map((q) => ({ kind: 'search' as const, query: `q=${encodeURIComponent(q)}` }))];
  const ids = (await env.query<{ id: string }>('SELECT id::text AS id FROM enrichment_jobs WHERE tenant_id = $1::uuid LIMIT 200', [BIG_TENANT])).map((r) => r.id);
  // Warm-up: every query walked once, and the API's pool and JIT, not recorded.
  for (const { query } of queries) await walk(agent, port, token, query);
  const s: Samples = { filterFirst: [], filterTenth: [], searchFirst: [], searchTenth: [], byId: [] };
  await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
    for (let w = 0; w < WALKS; w++) {
      // Clients start at different queries, so each moment mixes filters and searches.
      for (let k = 0; k < queries.length; k++) {
        const { kind, query } = queries[(client + w + k) % queries.length]!;
        const [first, tenth] = await walk(agent, port, token, query);
        (kind === 'filter' ? s.filterFirst : s.searchFirst).push(first);
        (kind === 'filter' ? s.filterTenth : s.searchTenth).push(tenth);
        s.byId.push((await get(agent, port, token, `/v1/enrichment/jobs/${ids[(client * WALKS + w + k) % ids.length]}`)).ms);
      }
    }
  }));
  agent.destroy();
  log(`${s.filterFirst.length + s.searchFirst.length} walks of ${PAGES} pages, ${CLIENTS} clients; p50 filter ${percentile(s.filterFirst, 50).toFixed(1)}/${percentile(s.filterTenth, 50).toFixed(1)} ms, search ${percentile(s.searchFirst, 50).toFixed(1)}/${percentile(s.searchTenth, 50).toFixed(1)} ms (page 1/10)`);
  return s;
}

function figures(m: Measured<Samples>): Figure[] {
  const baseline = percentile(m.value.byId, 95);
  const row = (name: string, samples: number[]): Figure => {
    const value = percentile(samples, 95);
    return { name, unit: 'ms', value, baseline, target: `p95 < ${P95_TARGET_MS} ms`, pass: value < P95_TARGET_MS, steal: m.steal, tries: m.tries };
  };
  const scale = `${JOBS / 1e6}M jobs, ${CLIENTS} clients`;
  return [
    row(`(i) list status+type+tag, page 1 p95 (${scale})`, m.value.filterFirst),
    row(`(i) list status+type+tag, page 10 p95 (${scale})`, m.value.filterTenth),
    row(`(ii) list q= free text, page 1 p95 (${scale})`, m.value.searchFirst),
    row(`(ii) list q= free text, page 10 p95 (${scale})`, m.value.searchTenth),
  ];
}
