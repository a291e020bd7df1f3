// Which actions a job's status allows, from the lifecycle table itself (src/jobs/status.ts,
// README "Job lifecycle"), so the buttons never offer what the API would refuse with 409.
import { canTransition, isFinished } from '../../../src/jobs/status';
import type { Job } from '../api/types';

/** Job types whose work is a list's entries (retry of failed entries applies to them). */
export const LIST_JOB_TYPES: readonly string[] = ['list_enrichment'];

export interface AllowedActions {
  /** DELETE: an unfinished job may move to cancelled */
  cancel: boolean;
  /** POST retry {scope: job}: failed or cancelled back to pending */
  retry: boolean;
  /** POST retry {scope: failed_entries}: a finished list job with failed entries */
  retryFailedEntries: boolean;
  /** PATCH {priority}: any unfinished job */
  changePriority: boolean;
}

/** The actions a job allows now. */
export function allowedActions(job: Pick<Job, 'status' | 'type' | 'progress'>): AllowedActions {
  const finished = isFinished(job.status);
  return {
    cancel: canTransition(job.status, 'cancelled'),
    retry: (job.status === 'failed' || job.status === 'cancelled') && canTransition(job.status, 'pending'),
    retryFailedEntries: finished && LIST_JOB_TYPES.includes(job.type) && job.progress.failed > 0 && canTransition(job.status, 'pending'),
    changePriority: !finished,
  };
}

/** Whether a bulk action can apply to a job (the same rules; the API still answers per job). */
export function bulkApplies(action: 'cancel' | 'retry', job: Pick<Job, 'status' | 'type' | 'progress'>): boolean {
  const allowed = allowedActions(job);
  return action === 'cancel' ? allowed.cancel : allowed.retry;
}
