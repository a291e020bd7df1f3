// tenant_export's handler: thin glue from the job to runTenantExport.
import { runTenantExport } from '../../governance/tenant-export.js';
import type { JobContext, JobHandler } from './handler.js';
import type { HandlerDeps } from './index.js';

/** The tenant_export handler: result {exportId, bytes, files}; the archive is the export of the job's id. */
export function tenantExportHandler(deps: Pick<HandlerDeps, 'config' | 'pool'>): JobHandler {
  return async (ctx: JobContext) => {
    const { job } = ctx;
    const out = await runTenantExport({ pool: deps.pool, appRole: deps.config.databaseAppRole, tenantId: job.tenant_id, exportId: job.id, signal: ctx.signal });
    return { exportId: job.id, bytes: out.bytes, files: out.files };
  };
}
