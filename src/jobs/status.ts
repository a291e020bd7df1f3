// Job statuses and the only transitions between them (DESIGN.md's table, in one place).

export const JOB_STATUSES = ['pending', 'scheduled', 'running', 'retrying', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const FINISHED_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
export const UNFINISHED_STATUSES: readonly JobStatus[] = ['pending', 'scheduled', 'running', 'retrying'];

/** from -> the statuses it may move to. */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  pending: ['running', 'scheduled', 'cancelled'],
  scheduled: ['pending', 'cancelled'],
  running: ['completed', 'retrying', 'failed', 'cancelled', 'pending'],
  retrying: ['running', 'cancelled'],
  failed: ['pending'],
  cancelled: ['pending'],
  completed: ['pending'],
};

/** Whether a job may move from one status to another. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses from which a job may move to `to`. */
export function allowedFrom(to: JobStatus): JobStatus[] {
  return JOB_STATUSES.filter((from) => canTransition(from, to));
}

/**
 * The statuses from which a worker may start an attempt, and the path it records:
 * directly (pending, retrying), or through `pending` first (a due scheduled job, or a
 * running one handed back after its worker stalled).
 */
export function startPath(from: JobStatus): JobStatus[] | null {
  if (canTransition(from, 'running')) return [from, 'running'];
  if (canTransition(from, 'pending') && canTransition('pending', 'running') && (from === 'scheduled' || from === 'running')) {
    return [from, 'pending', 'running'];
  }
  return null;
}

/** Every status a worker may start an attempt from. */
export const STARTABLE_STATUSES: JobStatus[] = JOB_STATUSES.filter((s) => startPath(s) !== null);

/** Whether a status is final (completed, failed, cancelled). */
export function isFinished(status: JobStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}
