// Bulk cancel or retry: asks first, then shows what happened to each job.
import { useState } from 'react';
import type { BulkResult } from '../../api/types';
import { useServices } from '../../app-context';
import { Dialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/States';
import { shortId } from '../../lib/format';

export type BulkAction = 'cancel' | 'retry';

export interface BulkDialogProps {
  action: BulkAction | null;
  jobIds: string[];
  onClose(changed: boolean): void;
}

/** The confirmation, then one result per job (POST /v1/enrichment/jobs/bulk). */
export function BulkDialog({ action, jobIds, onClose }: BulkDialogProps) {
  const { api } = useServices();
  const [results, setResults] = useState<BulkResult[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const verb = action === 'retry' ? 'Retry' : 'Cancel';
  const close = () => {
    const changed = results !== null;
    setResults(null);
    setError(null);
    onClose(changed);
  };
  const run = async () => {
    if (!action) return;
    setBusy(true);
    setError(null);
    try {
      const answer = await api.send<{ results: BulkResult[] }>('POST', '/v1/enrichment/jobs/bulk', { jobIds, action });
      setResults(answer.results);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const ok = results?.filter((r) => r.ok).length ?? 0;
  return (
    <Dialog
      title={results ? `${verb}: ${ok} of ${results.length} done` : `${verb} ${jobIds.length} job${jobIds.length === 1 ? '' : 's'}?`}
      open={action !== null}
      onClose={close}
      actions={
        results ? (
          <button type="button" className="primary" onClick={close}>
            Close
          </button>
        ) : (
          <>
            <button type="button" onClick={close} disabled={busy}>
              Keep them
            </button>
            <button type="button" className={action === 'cancel' ? 'danger' : 'primary'} onClick={() => void run()} disabled={busy}>
              {busy ? 'Working…' : `${verb} ${jobIds.length} job${jobIds.length === 1 ? '' : 's'}`}
            </button>
          </>
        )
      }
    >
      {error ? <ErrorNotice error={error} title={`The ${action ?? ''} was refused`} /> : null}
      {results ? (
        <table className="results">
          <caption className="visually-hidden">Result per job</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {results.map((r) => (
              <tr key={r.id}>
                <td>
                  <code>{shortId(r.id)}</code>
                </td>
                <td className={r.ok ? 'ok' : 'refused'}>{r.ok ? `ok, now ${r.status ?? ''}` : `refused: ${r.error?.message ?? r.status ?? 'unknown'}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>
          {action === 'cancel'
            ? 'Unfinished jobs will stop (a running list job at its next chunk); finished ones are left as they are.'
            : 'Failed and cancelled jobs will start again with a new round of attempts; others are left as they are.'}{' '}
          Jobs: {jobIds.map(shortId).join(', ')}
        </p>
      )}
    </Dialog>
  );
}
