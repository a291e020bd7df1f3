// tenant_cleanup's handler: thin glue from the job to runTenantCleanup.
import { runTenantCleanup } from '../../governance/cleanup.js';
import { type JobContext, type JobHandler, PermanentJobError } from './handler.js';
import type { HandlerDeps } from './index.js';

/** The tenant_cleanup handler: result {tables, cancelledJobs, queuedTasksRemoved, redisKeysDeleted}. */
export function tenantCleanupHandler(deps: Pick<HandlerDeps, 'config' | 'pool' | 'queue' | 'redis'>): JobHandler {
  return async (ctx: JobContext) => {
    const { job } = ctx;
    if (!deps.redis) throw new PermanentJobError('tenant_cleanup needs the queue\'s Redis connection', 'not_configured');
    const result = await runTenantCleanup({
      pool: deps.pool,
      appRole: deps.config.databaseAppRole,
      queue: deps.queue,
      redis: deps.redis,
      batchSize: deps.config.retention.batchSize,
      prefix: deps.config.queuePrefix,
      tenantId: job.tenant_id,
      jobId: job.id,
      signal: ctx.signal,
      log: ctx.log,
    });
    ctx.log.info({ jobId: job.id, tenantId: job.tenant_id, tables: result.tables }, 'tenant cleanup finished');
    return result;
  };
}
