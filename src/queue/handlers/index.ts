// Handlers by job type name: the worker side of the type registry.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Pool } from '../../db/pool.js';
import type { ChunkScheduler } from '../chunks/scheduler.js';
import type { JobQueue } from '../queue.js';
import type { CelerySettings } from '../../celery/config.js';
import type { CeleryTracker } from '../../celery/tracker.js';
import { celeryHandlers } from './celery.js';
import { exportHandler } from './export.js';
import type { JobHandler } from './handler.js';
import type { LookupService } from '../../providers/lookup.js';
import { batchLeadHandler, companyDataUpdateHandler, emailValidationHandler, singleLeadHandler, socialProfileDiscoveryHandler } from './items.js';
import { listEnrichmentHandler } from './list-enrichment.js';
import { tenantCleanupHandler } from './tenant-cleanup.js';
import { tenantExportHandler } from './tenant-export.js';
import { runTestJob } from './test-job.js';

/** What the built-in handlers need from their process. */
export interface HandlerDeps {
  config: Config;
  pool: Pool;
  /** the queue that chunk tasks of list jobs are added to */
  queue: JobQueue;
  /** the queue's Redis connection (tenant_cleanup deletes the tenant's keys); absent: that handler fails */
  redis?: Redis;
  /** plans list jobs' chunks and keeps their window queued */
  chunks: ChunkScheduler;
  log: Logger;
  /** provider lookups (paid); absent: jobs that need them report provider_not_configured */
  lookups?: LookupService;
  /** with CELERY_BROKER_URL: celery_task and the CELERY_ROUTES types are sent to Celery through this tracker */
  celery?: { settings: CelerySettings; tracker: CeleryTracker };
}

/** The built-in handlers. */
export function builtinHandlers(deps: HandlerDeps): Map<string, JobHandler> {
  return new Map<string, JobHandler>([
    ['test_job', runTestJob],
    ['list_enrichment', listEnrichmentHandler(deps.chunks, deps.pool, deps.config.databaseAppRole)],
    ['single_lead_enrichment', singleLeadHandler(deps.pool, deps.config.databaseAppRole, { lookups: deps.lookups })],
    ['batch_lead_enrichment', batchLeadHandler(deps.pool, deps.config.databaseAppRole, { lookups: deps.lookups })],
    ['email_validation', emailValidationHandler],
    ['company_data_update', companyDataUpdateHandler({ lookups: deps.lookups })],
    ['social_profile_discovery', socialProfileDiscoveryHandler({ lookups: deps.lookups })],
    ['export', exportHandler(deps)],
    ['tenant_cleanup', tenantCleanupHandler(deps)],
    ['tenant_export', tenantExportHandler(deps)],
    // last: a CELERY_ROUTES type runs on Celery instead of its built-in handler
    ...(deps.celery ? celeryHandlers(deps.celery.settings, deps.celery.tracker) : []),
  ]);
}
