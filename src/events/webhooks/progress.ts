// job.progress deliveries: no event row carries progress, so the runners call this (throttled).
import type { Logger } from 'pino';
import type { Pool } from '../../db/pool.js';
import type { Tx } from '../../db/transaction.js';
import type { JobRow } from '../../jobs/job.js';

// The function (0006_webhooks.sql) inserts nothing unless the tenant has an endpoint that
// asks for job.progress; a job's own webhookUrl never gets progress.
const PROGRESS = 'SELECT enrichd_webhook_progress($1::uuid) AS n';

/** Creates job.progress deliveries for a job inside a transaction (the outside-runner endpoint). */
export async function insertProgressDeliveries(tx: Tx, jobId: string): Promise<void> {
  await tx.query(PROGRESS, [jobId]);
}

/** A chunk runner hook: best effort, like the live progress event it follows (progress is not a record). */
export function webhookProgressHook(pool: Pool, log: Logger): (row: JobRow) => void {
  return (row) => {
    pool.query(PROGRESS, [row.id]).catch((err: Error) => log.debug({ err: { message: err.message }, jobId: row.id }, 'progress deliveries not created'));
  };
}
