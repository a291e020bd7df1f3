// The one place that reads the environment: env + .env -> one typed, validated Config.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { ConfigError, type RawEnv } from './config-error.js';
import { type ProviderSettings, loadProviderSettings, loadTenantCreditBudget, loadWebhookSecrets } from './providers/config.js';
import { type RateLimitSettings, loadRateLimitSettings } from './providers/limits/config.js';
import { type CelerySettings, loadCelerySettings } from './celery/config.js';

const intMs = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);
const days = (def: number) => z.coerce.number().int().min(1).max(3650).default(def);
const BOOL_WORDS: Record<string, boolean> = { true: true, '1': true, yes: true, false: false, '0': false, no: false };
const bool = (def: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return def;
      const b = BOOL_WORDS[v.toLowerCase()];
      if (b !== undefined) return b;
      ctx.addIssue({ code: 'custom', message: 'must be true or false (also 1/0, yes/no)' });
      return z.NEVER;
    });

const urlWithProtocols = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

const schema = z.object({
  DATABASE_URL: urlWithProtocols(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/enrichd'),
  DATABASE_APP_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .default('enrichd_app'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  REDIS_URL: urlWithProtocols(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.{}-]{1,64}$/, 'must be 1-64 characters of letters, digits, _ . - { }')
    .default('enrichd'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  CRON_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
  // keys the hashes of erased subjects' identifiers, with the database's own key (src/governance/subject-marks.ts)
  PRIVACY_HASH_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  WORKER_COUNT: z.coerce.number().int().min(0).max(64).default(1),
  MAX_CONCURRENT_JOBS: z.coerce.number().int().min(1).max(1000).default(10),
  POLL_INTERVAL: intMs(1000, 10),
  HEALTH_CHECK_INTERVAL: intMs(30000, 50),
  HEALTH_CHECK_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  GRACEFUL_SHUTDOWN_TIMEOUT: intMs(30000, 0),
  STALLED_INTERVAL: intMs(30000, 100),
  RECONCILE_INTERVAL: intMs(10000, 100),
  RETRY_BASE_DELAY: intMs(1000, 0),
  RETRY_MAX_DELAY: intMs(300000, 0),
  RETRY_BACKOFF_MULTIPLIER: z.coerce.number().min(1).max(100).default(2),
  // RATE_LIMIT_PER_* and the provider variables are read by src/providers (config and limits/config)
  PROVIDER_CACHE_SCOPE: z.enum(['tenant', 'global']).default('tenant'),
  TENANT_MAX_ACTIVE: z.coerce.number().int().min(0).default(0),
  WEBHOOK_ALLOW_PRIVATE: bool(false),
  SUBMIT_BATCH_MAX: z.coerce.number().int().min(1).max(5000).default(500),
  LIST_CHUNK_WINDOW: z.coerce.number().int().min(1).max(1000).default(4),
  CHUNK_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  // Retention (src/retention/sweep.ts): days kept, bounded so a typo cannot mean "forever" or "at once"
  RETENTION_JOBS_DAYS: days(30),
  RETENTION_DELIVERIES_DAYS: days(30),
  RETENTION_EXPORTS_DAYS: days(7),
  RETENTION_AUDIT_DAYS: days(365),
  RETENTION_PROVIDER_CALLS_DAYS: days(400),
  RETENTION_SWEEP_INTERVAL: z.coerce.number().int().min(1000).max(86_400_000).default(60_000),
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(5000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEBUG: z.string().optional(),
});

/** One line saying what is wrong with a variable's value, in our words rather than zod's. */
function describeIssue(issue: z.core.$ZodIssue, value: string | undefined): string {
  const shown = value === undefined ? '' : ` (got "${value.length > 40 ? `${value.slice(0, 40)}...` : value}")`;
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${issue.expected === 'int' ? 'an integer' : issue.expected === 'number' ? 'a number' : `a ${issue.expected}`}${shown}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters long' : ''}${issue.origin === 'string' ? '' : shown}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters long' : ''}${issue.origin === 'string' ? '' : shown}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}${shown}`;
    default:
      return issue.message;
  }
}

export { ConfigError, type RawEnv } from './config-error.js';

/** The whole typed configuration of an enrichd process. */
export interface Config {
  databaseUrl: string;
  databaseAppRole: string;
  databasePoolSize: number;
  redisUrl: string;
  queuePrefix: string;
  port: number;
  host: string;
  jwt: { secret: string | undefined; issuer: string | undefined; audience: string | undefined };
  cronSecret: string | undefined;
  /** PRIVACY_HASH_SECRET: mixed into the key of erasure marks' hashes; unset: the database's own key alone */
  privacyHashSecret: string | undefined;
  workerCount: number;
  maxConcurrentJobs: number;
  pollIntervalMs: number;
  healthCheckIntervalMs: number;
  /** where a process without the API (enrichd worker) serves /health, /ready and /metrics; unset: nowhere */
  healthCheckPort: number | undefined;
  gracefulShutdownTimeoutMs: number;
  stalledIntervalMs: number;
  reconcileIntervalMs: number;
  retry: { baseDelayMs: number; maxDelayMs: number; multiplier: number };
  /** provider keys, base URLs, generic providers and the call timeout; a provider is on when its key is set */
  providers: ProviderSettings;
  /** RATE_LIMIT_* defaults, per-provider limits and scopes, the window margin, the circuit's open time */
  rateLimits: RateLimitSettings;
  /** <PROVIDER>_WEBHOOK_SECRET by lower-case provider name: verifies incoming provider webhooks */
  providerWebhookSecrets: Record<string, string>;
  /** CELERY_*: where celery_task jobs and CELERY_ROUTES types are sent; undefined when CELERY_BROKER_URL is unset */
  celery: CelerySettings | undefined;
  /** TENANT_CREDIT_BUDGET: credits one tenant may spend per calendar month (UTC); undefined: no budget */
  tenantCreditBudget: number | undefined;
  providerCacheScope: 'tenant' | 'global';
  tenantMaxActive: number;
  webhookAllowPrivate: boolean;
  submitBatchMax: number;
  /** chunk tasks of one list job queued in Redis at once */
  listChunkWindow: number;
  /** tries of one chunk (with backoff) before its job's attempt fails */
  chunkAttempts: number;
  /** RETENTION_*: how long finished work is kept, and how the leader's sweep deletes it */
  retention: RetentionConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Days each kind of record is kept, and the sweep's pace. */
export interface RetentionConfig {
  /** finished jobs (by completion), with their events, entry results, chunks, deliveries and exports */
  jobsDays: number;
  /** finished webhook deliveries (and their attempts), by creation */
  deliveriesDays: number;
  /** finished exports (rows and file parts), by creation */
  exportsDays: number;
  auditDays: number;
  /** provider call records (usage and credits), by time */
  providerCallsDays: number;
  /** ms between sweeps */
  sweepIntervalMs: number;
  /** most rows one DELETE removes */
  batchSize: number;
}

/** Reads `.env` from a directory, if present; an absent file is an empty set. */
export function readDotenv(dir: string): RawEnv {
  const path = join(dir, '.env');
  return existsSync(path) ? parseDotenv(readFileSync(path)) : {};
}

// A blank value counts as unset: z.coerce.number() would read "  " as 0 (WORKER_COUNT=" " -> no workers).
const isSet = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** `DEBUG` lists namespaces separated by commas or spaces, as the debug package reads it. */
function debugEnabled(debug: string | undefined): boolean {
  return (debug ?? '').split(/[\s,]+/).some((ns) => ns === 'enrichd:*' || ns === 'enrichment:*');
}

/** Merges env over .env (env wins), drops empty values, validates, and returns the typed config. */
export function loadConfig(env: RawEnv = process.env, dotenv: RawEnv = readDotenv(process.cwd())): Config {
  const merged: RawEnv = {};
  for (const [k, v] of Object.entries(dotenv)) if (isSet(v)) merged[k] = v;
  for (const [k, v] of Object.entries(env)) if (isSet(v)) merged[k] = v;
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(variable, issue ? describeIssue(issue, merged[variable]) : 'is invalid');
  }
  const e = parsed.data;
  const debugOn = debugEnabled(e.DEBUG);
  return {
    databaseUrl: e.DATABASE_URL,
    databaseAppRole: e.DATABASE_APP_ROLE,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    port: e.PORT,
    host: e.HOST,
    jwt: { secret: e.JWT_SECRET, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    cronSecret: e.CRON_SECRET,
    privacyHashSecret: e.PRIVACY_HASH_SECRET,
    workerCount: e.WORKER_COUNT,
    maxConcurrentJobs: e.MAX_CONCURRENT_JOBS,
    pollIntervalMs: e.POLL_INTERVAL,
    healthCheckIntervalMs: e.HEALTH_CHECK_INTERVAL,
    healthCheckPort: e.HEALTH_CHECK_PORT,
    gracefulShutdownTimeoutMs: e.GRACEFUL_SHUTDOWN_TIMEOUT,
    stalledIntervalMs: e.STALLED_INTERVAL,
    reconcileIntervalMs: e.RECONCILE_INTERVAL,
    retry: { baseDelayMs: e.RETRY_BASE_DELAY, maxDelayMs: e.RETRY_MAX_DELAY, multiplier: e.RETRY_BACKOFF_MULTIPLIER },
    providers: loadProviderSettings(merged),
    rateLimits: loadRateLimitSettings(merged),
    providerWebhookSecrets: loadWebhookSecrets(merged),
    celery: loadCelerySettings(merged),
    tenantCreditBudget: loadTenantCreditBudget(merged),
    providerCacheScope: e.PROVIDER_CACHE_SCOPE,
    tenantMaxActive: e.TENANT_MAX_ACTIVE,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
    submitBatchMax: e.SUBMIT_BATCH_MAX,
    listChunkWindow: e.LIST_CHUNK_WINDOW,
    chunkAttempts: e.CHUNK_ATTEMPTS,
    retention: {
      jobsDays: e.RETENTION_JOBS_DAYS,
      deliveriesDays: e.RETENTION_DELIVERIES_DAYS,
      exportsDays: e.RETENTION_EXPORTS_DAYS,
      auditDays: e.RETENTION_AUDIT_DAYS,
      providerCallsDays: e.RETENTION_PROVIDER_CALLS_DAYS,
      sweepIntervalMs: e.RETENTION_SWEEP_INTERVAL,
      batchSize: e.RETENTION_BATCH_SIZE,
    },
    logLevel: debugOn ? 'debug' : e.LOG_LEVEL,
  };
}
