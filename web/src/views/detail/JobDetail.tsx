// Job detail: status, progress with rate and ETA, payload, result, attempts and the lifecycle
// timeline, last error and a sample of entry errors, webhook deliveries, and the actions.
import { useEffect, useRef, useState } from 'react';
import type { Delivery, Job, JobHistory } from '../../api/types';
import { useJobEvents, useServices, useStreamOpen } from '../../app-context';
import { JsonBlock } from '../../components/JsonBlock';
import { JobProgressBar } from '../../components/ProgressBar';
import { Empty, ErrorNotice, Loading } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { LIST_JOB_TYPES } from '../../lib/actions';
import { age, count, dateTime, duration } from '../../lib/format';
import { isNewer } from '../../lib/job-filter';
import { type ProgressSample, addSample, etaSeconds, progressRate } from '../../lib/progress';
import { useLoad } from '../../lib/use-load';
import { useNow } from '../../lib/use-now';
import { JobActions } from './JobActions';

/** Rate and ETA of a running job, from its progress events. */
export function RateAndEta({ job, samples, now }: { job: Job; samples: ProgressSample[]; now: number }) {
  if (job.status !== 'running') return null;
  const rate = progressRate(samples, { processed: job.progress.processed, startedAt: job.startedAt, now });
  const eta = etaSeconds(job.progress, rate);
  return (
    <p className="rate">
      <span>Rate: {rate === null ? 'measuring…' : `${rate >= 10 ? Math.round(rate) : rate.toFixed(1)} entries/s`}</span>
      <span>ETA: {eta === null ? 'unknown' : duration(eta)}</span>
    </p>
  );
}

/** The detail view of one job. */
export function JobDetail({ id }: { id: string }) {
  const { api } = useServices();
  const now = useNow(5_000);
  const base = `/v1/enrichment/jobs/${id}`;
  const job = useLoad((signal) => api.get<Job>(base, signal), [id]);
  const history = useLoad((signal) => api.get<JobHistory>(`${base}/history`, signal), [id]);
  const deliveries = useLoad((signal) => api.get<{ items: Delivery[] }>(`${base}/deliveries`, signal), [id]);
  const [samples, setSamples] = useState<ProgressSample[]>([]);

  // History and deliveries follow status changes (not every progress tick).
  const lastStatus = useRef<string | null>(null);
  useEffect(() => {
    const status = job.data?.status ?? null;
    if (status !== null && lastStatus.current !== null && status !== lastStatus.current) {
      history.reload();
      deliveries.reload();
    }
    lastStatus.current = status;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [job.data?.status, job.data?.attempts]);

  useJobEvents((e) => {
    if (e.job.id !== id) return;
    job.set((prev) => (prev && !isNewer(prev, e.job) ? prev : e.job));
    setSamples((s) => addSample(s, { at: Date.now(), processed: e.job.progress.processed }));
  });
  useStreamOpen(() => {
    job.reload();
    history.reload();
  });

  if (job.error && !job.data) {
    return (
      <>
        <h1 tabIndex={-1}>
          Job <code>{id.slice(0, 8)}</code>
        </h1>
        <ErrorNotice error={job.error} title="The job could not be read" onRetry={job.reload} />
        <p>
          <a href="#/jobs">Back to jobs</a>
        </p>
      </>
    );
  }
  if (!job.data) {
    return (
      <>
        <h1 tabIndex={-1}>
          Job <code>{id.slice(0, 8)}</code>
        </h1>
        <Loading label="Loading the job…" />
      </>
    );
  }
  const j = job.data;
  const isList = LIST_JOB_TYPES.includes(j.type) || j.progress.total > 1;
  return (
    <>
      <p className="breadcrumb">
        <a href="#/jobs">Jobs</a> / <code>{j.id.slice(0, 8)}</code>
      </p>
      <div className="view-head">
        <h1 tabIndex={-1}>
          Job <code>{j.id.slice(0, 8)}</code> <span className="muted">{j.type}</span>
        </h1>
        <p className="status-line" aria-live="polite">
          Status: <StatusBadge status={j.status} />
        </p>
      </div>
      <div className="grid">
        <section className="card" aria-labelledby="progress-title">
          <h2 id="progress-title">Progress</h2>
          <JobProgressBar progress={j.progress} label={isList ? 'Entries processed' : 'Progress'} />
          <p className="muted">
            {count(j.progress.succeeded)} succeeded, {count(j.progress.failed)} failed of {count(j.progress.total)}
          </p>
          {isList ? <RateAndEta job={j} samples={samples} now={now} /> : null}
          <dl className="facts">
            <dt>Id</dt>
            <dd>
              <code className="wrap">{j.id}</code>
            </dd>
            <dt>Attempts</dt>
            <dd>
              {j.attempts} made, {j.maxAttempts} allowed in this round
            </dd>
            <dt>Priority</dt>
            <dd>{j.priority}</dd>
            <dt>Tags</dt>
            <dd>{j.tags.length === 0 ? 'none' : j.tags.join(', ')}</dd>
            <dt>Created</dt>
            <dd>
              {dateTime(j.createdAt)} ({age(j.createdAt, now)} ago)
            </dd>
            {j.runAt ? (
              <>
                <dt>Runs at</dt>
                <dd>{dateTime(j.runAt)}</dd>
              </>
            ) : null}
            <dt>Started</dt>
            <dd>{j.startedAt ? dateTime(j.startedAt) : 'not yet'}</dd>
            <dt>Finished</dt>
            <dd>{j.completedAt ? `${dateTime(j.completedAt)}${j.durationMs !== null ? ` (took ${duration(j.durationMs / 1000)})` : ''}` : 'not yet'}</dd>
            <dt>Worker</dt>
            <dd>{j.workerId ?? 'none'}</dd>
            <dt>Webhook</dt>
            <dd className="wrap">{j.webhookUrl ?? 'none'}</dd>
          </dl>
        </section>
        <JobActions job={j} onChanged={(next) => job.set(() => next)} />
      </div>

      {j.lastError ? (
        <section className="card card-error" aria-labelledby="error-title">
          <h2 id="error-title">Last error</h2>
          <p className="wrap">
            {j.lastError.message} {j.lastError.code ? <code>{j.lastError.code}</code> : null}
          </p>
          <p className="muted">at {dateTime(j.lastError.at)}</p>
        </section>
      ) : null}

      <section className="card" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Lifecycle</h2>
        {history.error ? <ErrorNotice error={history.error} title="The history could not be read" onRetry={history.reload} /> : null}
        {!history.data && !history.error ? <Loading label="Loading the history…" /> : null}
        {history.data && history.data.events.length === 0 ? <Empty>No transitions yet.</Empty> : null}
        {history.data && history.data.events.length > 0 ? (
          <ol className="timeline">
            {history.data.events.map((e, i) => (
              <li key={i}>
                <time dateTime={e.at}>{dateTime(e.at)}</time>{' '}
                <span>
                  {e.from ?? 'new'} → <strong>{e.to}</strong>
                </span>{' '}
                <span className="muted">
                  attempt {e.attempt}
                  {e.workerId ? `, ${e.workerId}` : ''}
                </span>
                {e.message ? <span className="wrap"> · {e.message}</span> : null}
              </li>
            ))}
          </ol>
        ) : null}
        {history.data && history.data.entryErrors.length > 0 ? (
          <>
            <h3>Entry errors (a sample)</h3>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Entry</th>
                    <th scope="col">Step</th>
                    <th scope="col">Message</th>
                  </tr>
                </thead>
                <tbody>
                  {history.data.entryErrors.map((e, i) => (
                    <tr key={i}>
                      <td>{e.entryId}</td>
                      <td>{e.step}</td>
                      <td className="wrap">{e.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : null}
      </section>

      <div className="grid">
        <section className="card" aria-labelledby="payload-title">
          <h2 id="payload-title">Payload</h2>
          <JsonBlock value={j.payload} label="Payload" />
        </section>
        <section className="card" aria-labelledby="result-title">
          <h2 id="result-title">Result</h2>
          {j.result === null ? <Empty>No result yet.</Empty> : <JsonBlock value={j.result} label="Result" />}
        </section>
      </div>

      <section className="card" aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Webhook deliveries</h2>
        {deliveries.error ? <ErrorNotice error={deliveries.error} title="The deliveries could not be read" onRetry={deliveries.reload} /> : null}
        {!deliveries.data && !deliveries.error ? <Loading label="Loading deliveries…" /> : null}
        {deliveries.data && deliveries.data.items.length === 0 ? (
          <Empty>No deliveries: the job has no webhookUrl and the tenant no endpoint for its events.</Empty>
        ) : null}
        {deliveries.data && deliveries.data.items.length > 0 ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">URL</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.data.items.map((d) => {
                  const last = d.attempts[d.attempts.length - 1];
                  return (
                    <tr key={d.id}>
                      <td>{d.event}</td>
                      <td className="wrap">{d.url}</td>
                      <td>{d.status}</td>
                      <td>
                        {d.attempts.length}
                        {last ? ` (last: ${last.statusCode ?? last.error ?? 'no answer'})` : ''}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </>
  );
}
