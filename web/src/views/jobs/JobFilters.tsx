// The jobs view's filter form (type, tag, free text, created range, page size) and status tabs.
import { type FormEvent, useState } from 'react';
import { JOB_STATUSES } from '../../../../src/jobs/status';
import type { JobMetrics, JobStatus } from '../../api/types';
import { EMPTY_FILTER, type JobFilter, PAGE_SIZES } from '../../lib/job-filter';
import { count } from '../../lib/format';

/** Status buttons with their counts; the pressed one is the filter. */
export function StatusTabs({ filter, counts, onStatus }: { filter: JobFilter; counts: JobMetrics['counts'] | null; onStatus(s: JobStatus | ''): void }) {
  const total = counts ? Object.values(counts).reduce((a, b) => a + (b ?? 0), 0) : null;
  const tabs: { status: JobStatus | ''; label: string; n: number | null }[] = [
    { status: '', label: 'All', n: total },
    ...JOB_STATUSES.map((s) => ({ status: s, label: s, n: counts ? (counts[s] ?? 0) : null })),
  ];
  return (
    <div className="tabs" role="group" aria-label="Status">
      {tabs.map((t) => (
        <button key={t.label} type="button" className="tab" aria-pressed={filter.status === t.status} onClick={() => onStatus(t.status)}>
          <span className="tab-label">{t.label}</span>
          <span className="tab-count" aria-label={t.n === null ? 'count loading' : `${t.n} jobs`}>
            {t.n === null ? '…' : count(t.n)}
          </span>
        </button>
      ))}
    </div>
  );
}

/** The filter form: applied on submit (the server filters), cleared with Reset. */
export function JobFilters({ filter, types, onApply }: { filter: JobFilter; types: string[]; onApply(f: JobFilter): void }) {
  // The parent remounts the form (key) when the applied filter changes.
  const [draft, setDraft] = useState(filter);
  const set = <K extends keyof JobFilter>(k: K, v: JobFilter[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(draft);
  };
  const typeOptions = draft.type && !types.includes(draft.type) ? [...types, draft.type] : types;
  return (
    <form className="filters" onSubmit={submit} role="search" aria-label="Filter jobs">
      <div className="field">
        <label htmlFor="f-q">Search</label>
        <input id="f-q" type="search" value={draft.q} maxLength={200} placeholder="id, type, tag or error" onChange={(e) => set('q', e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="f-type">Type</label>
        <select id="f-type" value={draft.type} onChange={(e) => set('type', e.target.value)}>
          <option value="">Any type</option>
          {typeOptions.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-tag">Tag</label>
        <input id="f-tag" type="text" value={draft.tag} maxLength={64} onChange={(e) => set('tag', e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="f-after">Created after</label>
        <input id="f-after" type="datetime-local" value={draft.createdAfter} onChange={(e) => set('createdAfter', e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="f-before">Created before</label>
        <input id="f-before" type="datetime-local" value={draft.createdBefore} onChange={(e) => set('createdBefore', e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="f-limit">Per page</label>
        <select id="f-limit" value={draft.limit} onChange={(e) => set('limit', Number(e.target.value))}>
          {PAGE_SIZES.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </div>
      <div className="field field-buttons">
        <button type="submit" className="primary">
          Apply
        </button>
        <button type="button" onClick={() => onApply({ ...EMPTY_FILTER, status: filter.status })}>
          Reset
        </button>
      </div>
    </form>
  );
}
