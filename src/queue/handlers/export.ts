// export's handler: thin glue from the job to runExport, with throttled progress.
import type { z } from 'zod';
import { withTenant } from '../../db/transaction.js';
import type { exportPayload } from '../../jobs/types/export.js';
import { ExportListNotFoundError, runExport } from '../../lists/export/run-export.js';
import { setExportProgress } from '../../lists/export/repository.js';
import { ItemsOutcome, type JobContext, type JobHandler, PermanentJobError } from './handler.js';
import type { HandlerDeps } from './index.js';

const PROGRESS_INTERVAL_MS = 1000;

/** The export handler: result {exportId, rows, bytes}, progress in entries. It needs only the configuration and the pool. */
export function exportHandler(deps: Pick<HandlerDeps, 'config' | 'pool'>): JobHandler {
  return async (ctx: JobContext) => {
    const p = ctx.payload as z.infer<typeof exportPayload>;
    const { job } = ctx;
    const appRole = deps.config.databaseAppRole;
    // Progress goes through its own connection while the file's transaction is open. At most
    // one update is in flight and none is awaited, so a busy pool slows the progress bar,
    // never the export; a failed update is only logged.
    let lastAt = 0;
    let inFlight: Promise<void> | null = null;
    const onPage = (processed: number, total: number) => {
      const now = Date.now();
      if (inFlight || now - lastAt < PROGRESS_INTERVAL_MS) return;
      lastAt = now;
      inFlight = withTenant(deps.pool, appRole, job.tenant_id, (tx) => setExportProgress(tx, job.id, total, processed))
        .catch((err: unknown) => ctx.log.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'export progress not recorded'))
        .finally(() => {
          inFlight = null;
        });
    };
    try {
      const out = await runExport({
        pool: deps.pool,
        appRole,
        tenantId: job.tenant_id,
        exportId: job.id,
        listId: p.listId,
        format: p.format,
        signal: ctx.signal,
        onPage,
      });
      // Settles the last update before the attempt's outcome is recorded, so it cannot land after it.
      await inFlight;
      // Progress counts entries: the outcome's counters replace the one-item default.
      return new ItemsOutcome(
        { exportId: job.id, rows: out.rows, bytes: out.bytes },
        { total: out.rows, processed: out.rows, succeeded: out.rows, failed: 0 },
      );
    } catch (err) {
      await inFlight;
      if (err instanceof ExportListNotFoundError) throw new PermanentJobError(err.message, 'list_not_found');
      throw err;
    }
  };
}
