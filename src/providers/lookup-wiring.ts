// Builds a process's lookup service from its settings: enabled providers, the shared rate
// limiter, the PostgreSQL cache, and the tenant credit budget.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ConfigError, type Config, type RawEnv } from '../config.js';
import type { Pool } from '../db/pool.js';
import { registerProviderNames } from '../enrich/steps/provider-step.js';
import { ProviderCache } from './cache/store.js';
import { loadProviderSettings } from './config.js';
import { limitsFrom, loadRateLimitSettings } from './limits/config.js';
import { createRateLimiter } from './limits/limiter.js';
import { LookupService } from './lookup.js';
import { createProviderRegistry } from './registry.js';

/**
 * TENANT_CREDIT_BUDGET (this module's own variable): credits one tenant may spend on provider
 * lookups per calendar month (UTC); unset: no budget.
 */
export function tenantCreditBudget(env: RawEnv): number | undefined {
  const raw = env.TENANT_CREDIT_BUDGET;
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw.trim());
  if (!Number.isFinite(n) || n < 0) throw new ConfigError('TENANT_CREDIT_BUDGET', `must be a number of credits, 0 or more (got "${raw.slice(0, 40)}")`);
  return n;
}

export interface LookupWiring {
  config: Config;
  pool: Pool;
  redis: Redis;
  /** the provider variables (keys, base URLs, limits, budgets) */
  env: RawEnv;
  log: Logger;
}

/** The lookup service of a process; its providers' names become valid in plans. */
export function createLookupService(w: LookupWiring): LookupService {
  const settings = loadProviderSettings(w.env);
  registerProviderNames(settings.generic.map((g) => g.definition.name));
  const registry = createProviderRegistry(settings);
  const limiter = createRateLimiter({ redis: w.redis, prefix: w.config.queuePrefix, limits: limitsFrom(loadRateLimitSettings(w.env)) });
  return new LookupService({
    registry,
    // A claim outlives its call (the adapter's timeout) before another caller may take it over.
    cache: new ProviderCache(w.pool, settings.timeoutMs + 5_000),
    limiter,
    pool: w.pool,
    appRole: w.config.databaseAppRole,
    cacheScope: w.config.providerCacheScope,
    tenantCreditBudget: tenantCreditBudget(w.env),
    log: w.log,
  });
}
