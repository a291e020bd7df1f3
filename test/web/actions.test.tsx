// @vitest-environment node
// Which actions each status allows, checked against the API's own transition table.
import { describe, expect, it } from 'vitest';
import { JOB_STATUSES, type JobStatus, canTransition, isFinished } from '../../src/jobs/status';
import { allowedActions, bulkApplies } from '../../web/src/lib/actions';

const job = (status: JobStatus, type = 'test_job', failed = 0) => ({ status, type, progress: { total: 10, processed: 10, succeeded: 10 - failed, failed } });

describe('allowedActions', () => {
  it('enables each action exactly where the lifecycle allows it', () => {
    const table = Object.fromEntries(JOB_STATUSES.map((s) => [s, allowedActions(job(s))]));
    expect(table).toEqual({
      pending: { cancel: true, retry: false, retryFailedEntries: false, changePriority: true },
      scheduled: { cancel: true, retry: false, retryFailedEntries: false, changePriority: true },
      running: { cancel: true, retry: false, retryFailedEntries: false, changePriority: true },
      retrying: { cancel: true, retry: false, retryFailedEntries: false, changePriority: true },
      completed: { cancel: false, retry: false, retryFailedEntries: false, changePriority: false },
      failed: { cancel: false, retry: true, retryFailedEntries: false, changePriority: false },
      cancelled: { cancel: false, retry: true, retryFailedEntries: false, changePriority: false },
    });
    for (const s of JOB_STATUSES) {
      expect(allowedActions(job(s)).cancel).toBe(canTransition(s, 'cancelled'));
      expect(allowedActions(job(s)).changePriority).toBe(!isFinished(s));
    }
  });

  it('offers retry of failed entries for finished list jobs with failed entries only', () => {
    expect(allowedActions(job('completed', 'list_enrichment', 3)).retryFailedEntries).toBe(true);
    expect(allowedActions(job('failed', 'list_enrichment', 3)).retryFailedEntries).toBe(true);
    expect(allowedActions(job('completed', 'list_enrichment', 0)).retryFailedEntries).toBe(false);
    expect(allowedActions(job('running', 'list_enrichment', 3)).retryFailedEntries).toBe(false);
    expect(allowedActions(job('completed', 'test_job', 3)).retryFailedEntries).toBe(false);
  });

  it('applies bulk cancel to unfinished jobs and bulk retry to failed or cancelled ones', () => {
    expect(JOB_STATUSES.filter((s) => bulkApplies('cancel', job(s)))).toEqual(['pending', 'scheduled', 'running', 'retrying']);
    expect(JOB_STATUSES.filter((s) => bulkApplies('retry', job(s)))).toEqual(['failed', 'cancelled']);
  });
});
