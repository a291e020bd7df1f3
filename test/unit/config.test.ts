// Configuration: the contract's defaults, env over .env, empty as unset, one-line errors naming the variable.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readDotenv } from '../../src/config.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, {});
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it("match CONTRACT.md's Configuration table", () => {
    const c = loadConfig({}, {});
    expect(c.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/enrichd');
    expect(c.databaseAppRole).toBe('enrichd_app');
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.queuePrefix).toBe('enrichd');
    expect(c.port).toBe(3000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.jwt).toEqual({ secret: undefined, issuer: undefined, audience: undefined });
    expect(c.cronSecret).toBeUndefined();
    expect(c.workerCount).toBe(1);
    expect(c.maxConcurrentJobs).toBe(10);
    expect(c.pollIntervalMs).toBe(1000);
    expect(c.healthCheckIntervalMs).toBe(30000);
    expect(c.gracefulShutdownTimeoutMs).toBe(30000);
    expect(c.stalledIntervalMs).toBe(30000);
    expect(c.retry).toEqual({ baseDelayMs: 1000, maxDelayMs: 300000, multiplier: 2 });
    expect(c.rateLimits.defaults).toEqual({ second: 10, minute: 100, hour: 1000 });
    expect(c.providerCacheScope).toBe('tenant');
    expect(c.tenantMaxActive).toBe(0);
    expect(c.webhookAllowPrivate).toBe(false);
    expect(c.logLevel).toBe('info');
  });
});

describe('loadConfig sources', () => {
  it('reads values from the environment', () => {
    const c = loadConfig({ PORT: '4001', WORKER_COUNT: '3', WEBHOOK_ALLOW_PRIVATE: 'true', JWT_SECRET: 'x'.repeat(16), JWT_ISSUER: 'iss' }, {});
    expect(c.port).toBe(4001);
    expect(c.workerCount).toBe(3);
    expect(c.webhookAllowPrivate).toBe(true);
    expect(c.jwt).toEqual({ secret: 'x'.repeat(16), issuer: 'iss', audience: undefined });
  });

  it('reads values from .env when the environment lacks them', () => {
    expect(loadConfig({}, { PORT: '5002', QUEUE_PREFIX: 'fromdotenv' })).toMatchObject({ port: 5002, queuePrefix: 'fromdotenv' });
  });

  it('lets the environment win over .env', () => {
    expect(loadConfig({ PORT: '4001' }, { PORT: '5002' }).port).toBe(4001);
  });

  it('counts an empty variable as unset, in either source', () => {
    expect(loadConfig({ PORT: '' }, {}).port).toBe(3000);
    expect(loadConfig({}, { PORT: '' }).port).toBe(3000);
    expect(loadConfig({ PORT: '' }, { PORT: '5002' }).port).toBe(5002);
    expect(loadConfig({ JWT_SECRET: '' }, {}).jwt.secret).toBeUndefined();
  });

  it('counts a blank (whitespace-only) variable as unset, not as 0', () => {
    expect(loadConfig({ WORKER_COUNT: '  ' }, {}).workerCount).toBe(1);
    expect(loadConfig({ PORT: ' ' }, {}).port).toBe(3000);
  });

  it('reads a .env file from a directory, and an absent one as empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enrichd-config-'));
    try {
      expect(readDotenv(dir)).toEqual({});
      writeFileSync(join(dir, '.env'), 'PORT=6003\n# comment\nQUEUE_PREFIX="quoted"\n');
      const dotenv = readDotenv(dir);
      expect(dotenv).toEqual({ PORT: '6003', QUEUE_PREFIX: 'quoted' });
      expect(loadConfig({ QUEUE_PREFIX: 'env' }, dotenv)).toMatchObject({ port: 6003, queuePrefix: 'env' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts the usual spellings of booleans', () => {
    for (const v of ['true', 'TRUE', 'True', '1', 'yes']) expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: v }, {}).webhookAllowPrivate).toBe(true);
    for (const v of ['false', 'FALSE', '0', 'no']) expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: v }, {}).webhookAllowPrivate).toBe(false);
  });
});

describe('loadConfig errors', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '3.5'],
    ['WORKER_COUNT', '-1'],
    ['MAX_CONCURRENT_JOBS', '0'],
    ['POLL_INTERVAL', 'soon'],
    ['RETRY_BACKOFF_MULTIPLIER', '0.5'],
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['DATABASE_APP_ROLE', 'Robert"); DROP'],
    ['QUEUE_PREFIX', 'has space'],
    ['JWT_SECRET', 'short'],
    ['CRON_SECRET', 'tiny'],
    ['WEBHOOK_ALLOW_PRIVATE', 'maybe'],
    ['PROVIDER_CACHE_SCOPE', 'planet'],
    ['LOG_LEVEL', 'loud'],
    ['TENANT_MAX_ACTIVE', '-5'],
  ])('%s=%s throws a one-line ConfigError naming the variable', (variable, value) => {
    const err = configError({ [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).not.toContain('\n');
    expect(err.reason.length).toBeGreaterThan(0);
  });

  it('names the bad variable even when it comes from .env', () => {
    expect(() => loadConfig({}, { REDIS_URL: 'nope' })).toThrow(/REDIS_URL/);
  });
});

describe('debug logging', () => {
  it.each(['enrichd:*', 'enrichment:*', 'other:*,enrichd:*', 'enrichment:*,other', 'other enrichd:*'])('DEBUG=%s switches to debug', (debug) => {
    expect(loadConfig({ DEBUG: debug, LOG_LEVEL: 'warn' }, {}).logLevel).toBe('debug');
  });

  it.each(['other:*', 'enrichd', 'xenrichd:*', 'enrichd:queue'])('DEBUG=%s leaves the log level alone', (debug) => {
    expect(loadConfig({ DEBUG: debug, LOG_LEVEL: 'warn' }, {}).logLevel).toBe('warn');
  });
});
