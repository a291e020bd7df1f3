// Builds a process's lookup service from its settings: enabled providers, the shared rate
// limiter, the PostgreSQL cache, and the tenant credit budget.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { registerProviderNames } from '../enrich/steps/provider-step.js';
import { ProviderCache } from './cache/store.js';
import { limiterOptions } from './limits/config.js';
import { createRateLimiter } from './limits/limiter.js';
import { LookupService } from './lookup.js';
import { createProviderRegistry } from './registry.js';
import { SubjectMarks } from '../governance/subject-marks.js';

export interface LookupWiring {
  config: Config;
  pool: Pool;
  redis: Redis;
  log: Logger;
}

/** The lookup service of a process; its providers' names become valid in plans. */
export function createLookupService(w: LookupWiring): LookupService {
  const settings = w.config.providers;
  registerProviderNames(settings.generic.map((g) => g.definition.name));
  const registry = createProviderRegistry(settings);
  const limiter = createRateLimiter({ redis: w.redis, prefix: w.config.queuePrefix, ...limiterOptions(w.config.rateLimits) });
  return new LookupService({
    registry,
    // A claim outlives its call (the adapter's timeout) before another caller may take it over.
    cache: new ProviderCache(w.pool, settings.timeoutMs + 5_000),
    limiter,
    pool: w.pool,
    appRole: w.config.databaseAppRole,
    cacheScope: w.config.providerCacheScope,
    tenantCreditBudget: w.config.tenantCreditBudget,
    log: w.log,
    marks: new SubjectMarks(w.pool, w.config.privacyHashSecret),
  });
}
