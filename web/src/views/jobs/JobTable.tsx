// The jobs table: one row per job (id's first 8 characters, type, status, progress, tags, age),
// with a checkbox each for bulk actions. Rows are memoised: a live event re-renders its row only.
import { memo, useLayoutEffect } from 'react';
import type { Job } from '../../api/types';
import { JobProgressBar } from '../../components/ProgressBar';
import { StatusBadge } from '../../components/StatusBadge';
import { age, dateTime, shortId } from '../../lib/format';
import { jobHref } from '../../lib/route';

/** Performance marks around the first render of each fetched page (bench/dashboard.ts reads them). */
export const RENDER_START_MARK = 'jobs-rows-start';
export const RENDER_MEASURE = 'jobs-rows-render';

interface RowProps {
  job: Job;
  selected: boolean;
  now: number;
  onToggle(id: string): void;
}

const JobRow = memo(function JobRow({ job, selected, now, onToggle }: RowProps) {
  const short = shortId(job.id);
  return (
    <tr className={selected ? 'selected' : undefined}>
      <td className="col-select">
        <input type="checkbox" checked={selected} onChange={() => onToggle(job.id)} aria-label={`Select job ${short}`} />
      </td>
      <td data-label="Job" className="col-id">
        <a href={jobHref(job.id)} aria-label={`Job ${short}, ${job.type}, ${job.status}`}>
          <code>{short}</code>
        </a>
      </td>
      <td data-label="Type">{job.type}</td>
      <td data-label="Status">
        <StatusBadge status={job.status} />
      </td>
      <td data-label="Progress" className="col-progress">
        <JobProgressBar progress={job.progress} label={`Progress of job ${short}`} />
      </td>
      <td data-label="Tags" className="col-tags">
        {job.tags.length === 0 ? <span className="muted">none</span> : job.tags.map((t) => <span key={t} className="tag">{t}</span>)}
      </td>
      <td data-label="Age" className="col-age">
        <time dateTime={job.createdAt} title={dateTime(job.createdAt)}>
          {age(job.createdAt, now)}
        </time>
      </td>
    </tr>
  );
});

export interface JobTableProps {
  jobs: Job[];
  selected: ReadonlySet<string>;
  now: number;
  onToggle(id: string): void;
  onToggleAll(select: boolean): void;
}

/** The table of a page of jobs. */
export function JobTable({ jobs, selected, now, onToggle, onToggleAll }: JobTableProps) {
  useLayoutEffect(() => {
    // Only a freshly fetched page has the start mark (a live update of a row has none).
    if (performance.getEntriesByName(RENDER_START_MARK, 'mark').length === 0) return;
    // Forces style and layout of the new rows, so the measure covers them, not only React's work.
    void document.body.offsetHeight;
    performance.measure(RENDER_MEASURE, RENDER_START_MARK);
    performance.clearMarks(RENDER_START_MARK);
  }, [jobs]);
  const all = jobs.length > 0 && jobs.every((j) => selected.has(j.id));
  return (
    <table className="jobs">
      <caption className="visually-hidden">Jobs, newest first</caption>
      <thead>
        <tr>
          <th scope="col" className="col-select">
            <label className="select-all">
              <input type="checkbox" checked={all} onChange={() => onToggleAll(!all)} aria-label="Select all jobs on this page" />
              <span className="select-all-text visually-hidden" aria-hidden="true">
                Select all
              </span>
            </label>
          </th>
          <th scope="col">Job</th>
          <th scope="col">Type</th>
          <th scope="col">Status</th>
          <th scope="col">Progress</th>
          <th scope="col">Tags</th>
          <th scope="col">Age</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <JobRow key={j.id} job={j} selected={selected.has(j.id)} now={now} onToggle={onToggle} />
        ))}
      </tbody>
    </table>
  );
}
