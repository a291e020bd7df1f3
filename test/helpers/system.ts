// A whole enrichd (API, leader, workers) on its own database and Redis prefix, for one test file.
import type { StepRunner } from '../../src/enrich/plan.js';
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { inject } from 'vitest';
import { signToken } from '../../src/api/token.js';
import { type Config, type RawEnv, loadConfig } from '../../src/config.js';
import { type RunningParts, type Services, openServices, startParts, stopParts } from '../../src/runtime/services.js';
import { ADMIN_URL, REDIS_URL, TEST_APP_ROLE, TEST_JWT_SECRET, databaseUrlFor } from './urls.js';

/** Clones the run's migrated template into a fresh database; returns its URL. */
export async function createTestDatabase(label = 't'): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `enrichd_${label}_${inject('runId')}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    // CREATE DATABASE ... TEMPLATE fails while another session uses the template: retry briefly.
    for (let i = 0; ; i++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${inject('templateDatabase')}"`);
        break;
      } catch (err) {
        if (i > 50 || (err as { code?: string }).code !== '55006') throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await admin.end();
  }
  return {
    name,
    url: databaseUrlFor(name),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A Redis key prefix of the test's own. */
export function testPrefix(label = 't'): string {
  return `enrichd-test-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under a prefix. */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis may be gone already (a test's own server): nothing to clean
  } finally {
    redis.disconnect();
  }
}

/** Config for tests: fast intervals, the test secret, the given database and prefix. */
export function testConfig(env: RawEnv): Config {
  return loadConfig(
    {
      REDIS_URL,
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_APP_ROLE: TEST_APP_ROLE,
      POLL_INTERVAL: '200',
      RECONCILE_INTERVAL: '1000',
      STALLED_INTERVAL: '1000',
      HEALTH_CHECK_INTERVAL: '500',
      RETRY_BASE_DELAY: '50',
      RETRY_MAX_DELAY: '500',
      GRACEFUL_SHUTDOWN_TIMEOUT: '2000',
      LOG_LEVEL: 'silent',
      DATABASE_POOL_SIZE: '10',
      ...env,
    },
    {},
  );
}

export interface TestSystem {
  config: Config;
  services: Services;
  parts: RunningParts;
  app: FastifyInstance;
  db: { name: string; url: string };
  prefix: string;
  /** a token for a tenant (a fresh one per call unless given) */
  token(opts?: { tenantId?: string; roles?: string[] }): Promise<string>;
  close(): Promise<void>;
}

export interface TestSystemOptions {
  workers?: number;
  api?: boolean;
  leader?: boolean;
  env?: RawEnv;
  log?: Logger;
  /** replaces how list jobs run a step over an entry (to make a step raise) */
  runStep?: StepRunner;
}

/** Starts enrichd in this process on its own database and prefix. */
export async function startTestSystem(opts: TestSystemOptions = {}): Promise<TestSystem> {
  const db = await createTestDatabase();
  const prefix = testPrefix();
  const config = testConfig({ DATABASE_URL: db.url, QUEUE_PREFIX: prefix, ...opts.env });
  const log = opts.log ?? pino({ level: 'silent' });
  const services = openServices(config, log);
  const parts = await startParts(services, { api: opts.api ?? true, leader: opts.leader ?? true, workers: opts.workers ?? 1, runStep: opts.runStep }, () => true);
  const app = parts.app!;
  await app.ready();
  return {
    config,
    services,
    parts,
    app,
    db,
    prefix,
    token: (t = {}) => signToken(TEST_JWT_SECRET, { tenantId: t.tenantId ?? randomUUID(), roles: t.roles, ttl: '1h' }),
    async close() {
      await stopParts(parts);
      await services.close();
      await deletePrefix(config.redisUrl, prefix);
      await db.drop();
    },
  };
}

/** Polls until fn returns a truthy value or the timeout passes. */
export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`waitFor timed out after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
