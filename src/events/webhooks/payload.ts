// The body of a delivery, built from the job row the event captured (stored as jsonb).
import type { Job, JobRow } from '../../jobs/job.js';
import { toJob } from '../../jobs/job.js';

const DATE_FIELDS = ['run_at', 'retry_at', 'created_at', 'updated_at', 'started_at', 'attempt_started_at', 'completed_at', 'dispatched_at'] as const;

/** A job row read back from to_jsonb(row): timestamps arrive as strings and become Dates again. */
export function jobRowFromJson(json: Record<string, unknown>): JobRow {
  const row: Record<string, unknown> = { ...json };
  for (const f of DATE_FIELDS) {
    const v = json[f];
    row[f] = typeof v === 'string' ? new Date(v) : null;
  }
  return row as unknown as JobRow;
}

/** The contract's body: `{type, timestamp, data: {job}}`; the same bytes at every attempt. */
export function deliveryBody(type: string, at: Date, job: Job): string {
  return JSON.stringify({ type, timestamp: at.toISOString(), data: { job } });
}

/** The body of a stored delivery. */
export function storedDeliveryBody(type: string, at: Date, payload: Record<string, unknown>): string {
  return deliveryBody(type, at, toJob(jobRowFromJson(payload)));
}
