// The bench's own world: a fresh database and Redis prefix, a tenant and token, a fresh build.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { signToken } from '../../src/api/token.js';
import { ROOT, onInterrupt } from './proc.js';

export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A private build of src/ with its own bin/enrichd, so a concurrent `npm run build` cannot pull dist/ away mid-run. */
export interface Build {
  /** the build's bin/enrichd */
  bin: string;
  /** the build's compiled code (dist/) */
  dist: string;
  remove(): void;
}

/**
 * Compiles src/ as `npm run build` does, into node_modules/.cache/enrichd-bench/<run>/
 * (laid out as bin/ + dist/ like the package, and inside the project so modules resolve).
 */
export function buildSnapshot(run: string): Build {
  const root = join(ROOT, 'node_modules', '.cache', 'enrichd-bench', run);
  const dist = join(root, 'dist');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dist, '--declaration', 'false', '--sourceMap', 'false'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  // The same assets as scripts/copy-assets.mjs: migrations and the steps' data files.
  cpSync(join(ROOT, 'src', 'db', 'migrations'), join(dist, 'db', 'migrations'), { recursive: true });
  cpSync(join(ROOT, 'src', 'enrich', 'data'), join(dist, 'enrich', 'data'), { recursive: true });
  // node_modules ends the search for a package scope: say here that the build is ESM.
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(join(ROOT, 'bin', 'enrichd'), join(root, 'bin', 'enrichd'));
  const remove = () => {
    rmSync(root, { recursive: true, force: true });
    // The shared parent goes too once no other run is using it.
    try {
      rmdirSync(dirname(root));
    } catch {
      // another run's build is still there
    }
  };
  return { bin: join(root, 'bin', 'enrichd'), dist, remove };
}

export interface BenchEnv {
  build: Build;
  databaseName: string;
  databaseUrl: string;
  jwtSecret: string;
  tenantId: string;
  token: string;
  /** the root of every queue prefix this run uses */
  prefixRoot: string;
  /** A queue prefix of its own for one measurement. */
  prefix(label: string): string;
  /** Env for an enrichd child process. */
  enrichdEnv(prefix: string, extra?: Record<string, string>): Record<string, string>;
  /** Empties the job tables between measurements (the tenant stays). */
  resetJobs(): Promise<void>;
  /** A short-lived connection to the bench database. */
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

/**
 * Builds src/, creates and migrates enrichd_bench_<random>; close() drops it WITH (FORCE),
 * deletes the Redis keys and the build.
 */
export async function openBenchEnv(): Promise<BenchEnv> {
  const run = randomBytes(4).toString('hex');
  const build = buildSnapshot(run);
  const databaseName = `enrichd_bench_${run}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${databaseName}`;
  const databaseUrl = url.toString();
  const jwtSecret = randomBytes(24).toString('hex');
  const tenantId = randomUUID();
  const prefixRoot = `enrichd-bench-${run}`;
  // BENCH_CHILD_NODE_OPTIONS: Node options for every enrichd child (GC settings, for instance), to try them out.
  const childNodeOptions: Record<string, string> = process.env.BENCH_CHILD_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_CHILD_NODE_OPTIONS } : {};
  const baseEnv = { DATABASE_URL: databaseUrl, REDIS_URL, JWT_SECRET: jwtSecret, LOG_LEVEL: 'warn', ...childNodeOptions };

  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    execFileSync(process.execPath, [build.bin, 'migrate'], { cwd: ROOT, env: { ...process.env, ...baseEnv }, stdio: ['ignore', 'ignore', 'inherit'] });
    await pool.query('INSERT INTO tenants (id) VALUES ($1::uuid) ON CONFLICT DO NOTHING', [tenantId]);
    await seedHistory(pool);
  } catch (err) {
    build.remove();
    await pool.end().catch(() => undefined);
    throw err;
  }
  const token = await signToken(jwtSecret, { tenantId, sub: 'bench', ttl: '2h' });
  let n = 0;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    unregister();
    build.remove();
    await pool.end().catch(() => undefined);
    await deleteKeys(`${prefixRoot}-*`);
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  };
  const unregister = onInterrupt(close);

  return {
    build,
    databaseName,
    databaseUrl,
    jwtSecret,
    tenantId,
    token,
    prefixRoot,
    prefix: (label) => `${prefixRoot}-${label}-${++n}`,
    enrichdEnv: (prefix, extra = {}) => ({ ...baseEnv, QUEUE_PREFIX: prefix, ...extra }),
    async resetJobs() {
      await pool.query('TRUNCATE enrichment_job_events, enrichment_jobs CASCADE');
      await pool.query('DELETE FROM enrichment_workers');
      await seedHistory(pool);
    },
    async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
      return (await pool.query<R>(sql, params)).rows;
    },
    close,
  };
}

const HISTORY_TENANT = '00000000-0000-4000-8000-00000000b0b0';
const HISTORY_JOBS = 30_000;

/**
 * Gives the job tables a past: finished jobs of another tenant, then ANALYZE. A live system
 * has rows and statistics (autovacuum); measuring on empty, never-analysed tables would
 * measure plans no deployment runs (the planner costs an empty table's lookups as free and
 * keeps such plans cached while the table fills). This server runs with autovacuum off, so
 * the statistics are taken here, once per measurement.
 */
async function seedHistory(pool: pg.Pool): Promise<void> {
  await pool.query('INSERT INTO tenants (id) VALUES ($1::uuid) ON CONFLICT DO NOTHING', [HISTORY_TENANT]);
  await pool.query(
    `INSERT INTO enrichment_jobs (id, tenant_id, type, status, priority, payload, max_attempts, timeout_ms, attempts,
                                  result, created_at, updated_at, started_at, attempt_started_at, completed_at, dispatched_at)
     SELECT gen_random_uuid(), $1::uuid, 'test_job', 'completed', 3, '{}', 3, 60000, 1, '{"ok": true}', t, t, t, t, t, t
     FROM generate_series(1, $2::int) AS g(n), LATERAL (SELECT now() - make_interval(secs => g.n) AS t) AS x`,
    [HISTORY_TENANT, HISTORY_JOBS],
  );
  await pool.query(
    `INSERT INTO enrichment_job_events (job_id, tenant_id, from_status, to_status, attempt, at)
     SELECT id, tenant_id, 'running', 'completed', 1, completed_at FROM enrichment_jobs WHERE tenant_id = $1::uuid`,
    [HISTORY_TENANT],
  );
  await pool.query('ANALYZE enrichment_jobs, enrichment_job_events, tenants');
}

/** Deletes the keys matching a pattern with SCAN + DEL (never FLUSHALL: Redis is shared). */
export async function deleteKeys(pattern: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
