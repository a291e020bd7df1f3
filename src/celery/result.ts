// Reads a task's state from the Redis result backend's value (`celery-task-meta-<id>`, also
// published on the channel of that name): celery/backends/base.py _store_result.

/** The result backend's key (and pub/sub channel) of a task. */
export const RESULT_KEY_PREFIX = 'celery-task-meta-';

/** What a task's stored state says, as enrichd acts on it. */
export type TaskState =
  | { kind: 'waiting' }
  | { kind: 'started' }
  | { kind: 'progress'; processed: number; total: number }
  | { kind: 'succeeded'; value: unknown }
  | { kind: 'failed'; type: string; message: string }
  | { kind: 'revoked' };

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : null);

/** The exception's message as Python's str(exc) gives it for the usual one-argument exception. */
function exceptionMessage(m: unknown): string {
  if (typeof m === 'string') return m;
  if (Array.isArray(m)) {
    if (m.length === 0) return '';
    if (m.length === 1) return typeof m[0] === 'string' ? m[0] : JSON.stringify(m[0]);
  }
  return JSON.stringify(m) ?? '';
}

/**
 * The state in a result backend value; null for a value that is not Celery's JSON meta.
 * A custom state carrying {done or current, total} counts as progress, as PROGRESS does.
 */
export function readTaskMeta(text: string): TaskState | null {
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch {
    return null;
  }
  if (meta === null || typeof meta !== 'object') return null;
  const { status, result } = meta as { status?: unknown; result?: unknown };
  switch (status) {
    case 'SUCCESS':
      return { kind: 'succeeded', value: result ?? null };
    case 'FAILURE': {
      const r = (result ?? {}) as { exc_type?: unknown; exc_message?: unknown };
      return { kind: 'failed', type: typeof r.exc_type === 'string' ? r.exc_type : 'Exception', message: exceptionMessage(r.exc_message).slice(0, 2000) };
    }
    case 'REVOKED':
      return { kind: 'revoked' };
    case 'STARTED':
      return { kind: 'started' };
    case 'PENDING':
    case 'RECEIVED':
    case 'RETRY':
      return { kind: 'waiting' };
    default: {
      if (typeof status !== 'string' || result === null || typeof result !== 'object') return { kind: 'waiting' };
      const r = result as { done?: unknown; current?: unknown; total?: unknown };
      const processed = num(r.done) ?? num(r.current);
      const total = num(r.total);
      return processed !== null && total !== null ? { kind: 'progress', processed, total } : { kind: 'waiting' };
    }
  }
}
