// A job's actions: retry, retry failed entries, cancel, change priority; each enabled only when
// the job's status allows it (lib/actions.ts), each answered in place.
import { useState } from 'react';
import type { Job } from '../../api/types';
import { useServices } from '../../app-context';
import { Dialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/States';
import { allowedActions } from '../../lib/actions';

/** The action buttons of one job; onChanged gets the job as the API answered. */
export function JobActions({ job, onChanged }: { job: Job; onChanged(job: Job): void }) {
  const { api } = useServices();
  const allowed = allowedActions(job);
  const [priority, setPriority] = useState(job.priority);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const base = `/v1/enrichment/jobs/${job.id}`;

  const act = async (name: string, call: () => Promise<Job>, message: string) => {
    setBusy(name);
    setError(null);
    setDone(null);
    try {
      onChanged(await call());
      setDone(message);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="card" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <div className="actions">
        <button type="button" className="primary" disabled={!allowed.retry || busy !== null} onClick={() => void act('retry', () => api.send<Job>('POST', `${base}/retry`, { scope: 'job' }), 'Retried: the job is pending again.')}>
          Retry
        </button>
        <button
          type="button"
          disabled={!allowed.retryFailedEntries || busy !== null}
          onClick={() => void act('entries', () => api.send<Job>('POST', `${base}/retry`, { scope: 'failed_entries' }), 'Retrying the failed entries.')}
        >
          Retry failed entries
        </button>
        <button type="button" className="danger" disabled={!allowed.cancel || busy !== null} onClick={() => setConfirmCancel(true)}>
          Cancel job
        </button>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act('priority', () => api.send<Job>('PATCH', base, { priority }), `Priority set to ${priority}.`);
          }}
        >
          <label htmlFor="priority">Priority</label>
          <select id="priority" value={priority} disabled={!allowed.changePriority} onChange={(e) => setPriority(Number(e.target.value))}>
            {[1, 2, 3, 4, 5].map((p) => (
              <option key={p} value={p}>
                {p}
                {p === 1 ? ' (highest)' : p === 5 ? ' (lowest)' : ''}
              </option>
            ))}
          </select>
          <button type="submit" disabled={!allowed.changePriority || busy !== null || priority === job.priority}>
            Change priority
          </button>
        </form>
      </div>
      <p className="help">
        Retry needs a failed or cancelled job; failed entries can be retried once a list job has finished with some; cancel and priority apply to unfinished jobs.
      </p>
      <div aria-live="polite">{done ? <p className="ok">{done}</p> : null}</div>
      {error ? <ErrorNotice error={error} title="The action was refused" /> : null}
      <Dialog
        title="Cancel this job?"
        open={confirmCancel}
        onClose={() => setConfirmCancel(false)}
        actions={
          <>
            <button type="button" onClick={() => setConfirmCancel(false)}>
              Keep it
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                setConfirmCancel(false);
                void act('cancel', () => api.send<Job>('DELETE', base), 'Cancelled.');
              }}
            >
              Cancel job
            </button>
          </>
        }
      >
        <p>A running list job stops at its next chunk; a running attempt's outcome is discarded. A cancelled job can be retried later.</p>
      </Dialog>
    </section>
  );
}
