// A job as stored (row) and as every endpoint returns it (the contract's shape).
import type { JobStatus } from './status.js';

export interface JobRow {
  id: string;
  tenant_id: string;
  type: string;
  status: JobStatus;
  priority: number;
  payload: Record<string, unknown>;
  tags: string[];
  attempts: number;
  round_base: number;
  max_attempts: number;
  timeout_ms: number;
  worker_id: string | null;
  progress_total: number;
  progress_processed: number;
  progress_succeeded: number;
  progress_failed: number;
  result: Record<string, unknown> | null;
  last_error: JobError | null;
  webhook_url: string | null;
  run_at: Date | null;
  retry_at: Date | null;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  attempt_started_at: Date | null;
  completed_at: Date | null;
  dispatched_at: Date | null;
  idempotency_key: string | null;
  request_hash: string | null;
}

export interface JobError {
  message: string;
  code?: string;
  /** the exception's type, where an outside worker (Celery) reports one */
  type?: string;
  at: string;
}

export interface Job {
  id: string;
  tenantId: string;
  type: string;
  status: JobStatus;
  priority: number;
  payload: Record<string, unknown>;
  tags: string[];
  attempts: number;
  maxAttempts: number;
  workerId: string | null;
  progress: { total: number; processed: number; succeeded: number; failed: number };
  result: Record<string, unknown> | null;
  lastError: JobError | null;
  webhookUrl: string | null;
  runAt: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** Converts a stored row to the contract's job shape. */
export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    type: row.type,
    status: row.status,
    priority: row.priority,
    payload: row.payload,
    tags: row.tags,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    workerId: row.worker_id,
    progress: {
      total: row.progress_total,
      processed: row.progress_processed,
      succeeded: row.progress_succeeded,
      failed: row.progress_failed,
    },
    result: row.result,
    lastError: row.last_error,
    webhookUrl: row.webhook_url,
    runAt: iso(row.run_at),
    createdAt: row.created_at.toISOString(),
    startedAt: iso(row.started_at),
    completedAt: iso(row.completed_at),
    durationMs: row.started_at && row.completed_at ? row.completed_at.getTime() - row.started_at.getTime() : null,
  };
}

/** Wraps a handler's return value as the job's result object (scalars and arrays as {value}). */
export function toResultObject(value: unknown): Record<string, unknown> | null {
  if (value === undefined) return null;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  return { value };
}
