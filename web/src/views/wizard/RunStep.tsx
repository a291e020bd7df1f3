// Wizard steps 3 and 4: start the list job and follow it live, then export the list and
// download the file (fetched with the Authorization header, saved from a Blob).
import { useEffect, useState } from 'react';
import type { Export, Job } from '../../api/types';
import { useJobEvents, useServices, useStreamOpen } from '../../app-context';
import { JobProgressBar } from '../../components/ProgressBar';
import { ErrorNotice } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { bytes, count } from '../../lib/format';
import { isNewer } from '../../lib/job-filter';
import { type ProgressSample, addSample } from '../../lib/progress';
import { jobHref } from '../../lib/route';
import { useNow } from '../../lib/use-now';
import { RateAndEta } from '../detail/JobDetail';

/** Follows one job from the live stream (and re-reads it after a reconnection). */
function useFollowedJob(initial: Job | null) {
  const { api } = useServices();
  const [job, setJob] = useState<Job | null>(initial);
  const [samples, setSamples] = useState<ProgressSample[]>([]);
  useJobEvents((e) => {
    if (!job || e.job.id !== job.id) return;
    setJob((prev) => (prev && !isNewer(prev, e.job) ? prev : e.job));
    setSamples((s) => addSample(s, { at: Date.now(), processed: e.job.progress.processed }));
  });
  useStreamOpen(() => {
    if (job) void api.get<Job>(`/v1/enrichment/jobs/${job.id}`).then(setJob, () => undefined);
  });
  return { job, setJob, samples };
}

/** Starts list_enrichment for the list and plan, and shows its progress as it goes. */
export function RunJob({ listId, planId, onCompleted }: { listId: string; planId: string; onCompleted(job: Job): void }) {
  const { api } = useServices();
  const now = useNow(1_000);
  const { job, setJob, samples } = useFollowedJob(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const completed = job?.status === 'completed' ? job : null;
  useEffect(() => {
    if (completed) onCompleted(completed);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [completed?.id, completed !== null]);
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      setJob(await api.send<Job>('POST', '/v1/enrichment/jobs', { type: 'list_enrichment', payload: { listId, planId }, tags: ['dashboard'] }));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="stack">
      {!job ? (
        <div>
          <button type="button" className="primary" disabled={busy} onClick={() => void start()}>
            Start enrichment
          </button>
        </div>
      ) : (
        <div className="stack">
          <p aria-live="polite" className="status-line">
            Job <a href={jobHref(job.id)}>{job.id.slice(0, 8)}</a>: <StatusBadge status={job.status} />
          </p>
          <JobProgressBar progress={job.progress} label="Entries enriched" />
          <RateAndEta job={job} samples={samples} now={now} />
          {job.status === 'failed' || job.status === 'cancelled' ? (
            <p className="field-error">
              The job ended {job.status}
              {job.lastError ? `: ${job.lastError.message}` : ''}. Open <a href={jobHref(job.id)}>its detail</a> to retry it.
            </p>
          ) : null}
          {job.status === 'completed' && job.result ? (
            <p className="muted">
              {count(job.progress.succeeded)} entries enriched, {count(job.progress.failed)} with step errors.
            </p>
          ) : null}
        </div>
      )}
      {error ? <ErrorNotice error={error} title="The job was refused" /> : null}
    </div>
  );
}

/** Exports the list, follows the export job, and downloads the file when it is ready. */
export function ExportAndDownload({ listId }: { listId: string }) {
  const { api } = useServices();
  const [format, setFormat] = useState<'csv' | 'jsonl'>('csv');
  const [exp, setExp] = useState<Export | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  // The export is a job with the same id: its events say when the file is ready.
  useJobEvents((e) => {
    if (!exp || e.job.id !== exp.id || e.job.status === exp.status) return;
    void api.get<Export>(`/v1/exports/${exp.id}`).then(setExp, (err: Error) => setError(err));
  });
  useStreamOpen(() => {
    if (exp) void api.get<Export>(`/v1/exports/${exp.id}`).then(setExp, () => undefined);
  });
  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const created = await api.send<Export>('POST', '/v1/exports', { listId, format });
      // It may have finished before the events were looked at.
      setExp(await api.get<Export>(`/v1/exports/${created.id}`));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const download = async () => {
    if (!exp) return;
    setError(null);
    try {
      const { blob, filename } = await api.blob(`/v1/exports/${exp.id}/download`);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename ?? `export-${exp.id}.${exp.format}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setSaved(a.download);
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <div className="stack">
      <div className="inline-form">
        <label htmlFor="export-format">Format</label>
        <select id="export-format" value={format} onChange={(e) => setFormat(e.target.value as 'csv' | 'jsonl')} disabled={exp !== null}>
          <option value="csv">CSV</option>
          <option value="jsonl">JSON Lines</option>
        </select>
        <button type="button" className="primary" disabled={busy || exp !== null} onClick={() => void create()}>
          Export the list
        </button>
      </div>
      {exp ? (
        <p aria-live="polite" className="status-line">
          Export <code>{exp.id.slice(0, 8)}</code>: <StatusBadge status={exp.status} />
          {exp.status === 'completed' ? ` ${count(exp.rows)} rows, ${bytes(exp.bytes)}` : ''}
        </p>
      ) : null}
      {exp?.status === 'completed' ? (
        <div>
          <button type="button" className="primary" onClick={() => void download()}>
            Download {exp.format.toUpperCase()}
          </button>
          {saved ? <span className="ok"> Saved as {saved}.</span> : null}
        </div>
      ) : null}
      {error ? <ErrorNotice error={error} title="The export failed" /> : null}
    </div>
  );
}
