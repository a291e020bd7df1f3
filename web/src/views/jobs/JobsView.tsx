// Jobs: status tabs with counts, server-side filters and search, cursor paging, live rows,
// multi-select with bulk cancel and retry.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { JobMetrics, JobType, Page, Job } from '../../api/types';
import { useJobEvents, useServices, useStreamOpen } from '../../app-context';
import { Empty, ErrorNotice, Loading } from '../../components/States';
import { type JobFilter, filterFromParams, filterToParams, isNewer, jobsApiPath, matchesFilter } from '../../lib/job-filter';
import { jobsHref } from '../../lib/route';
import { useLoad } from '../../lib/use-load';
import { useNow } from '../../lib/use-now';
import { type BulkAction, BulkDialog } from './BulkDialog';
import { JobFilters, StatusTabs } from './JobFilters';
import { JobTable, RENDER_START_MARK } from './JobTable';

const COUNTS_REFRESH_MS = 2_000;

/** The jobs view for the fragment's parameters. */
export function JobsView({ params }: { params: URLSearchParams }) {
  const { api } = useServices();
  const key = params.toString();
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const filter = useMemo(() => filterFromParams(params), [key]);
  const go = (f: JobFilter) => {
    window.location.hash = jobsHref(filterToParams(f));
  };
  const metrics = useLoad((signal) => api.get<JobMetrics>('/v1/enrichment/jobs/metrics?window=60', signal), []);
  const types = useLoad((signal) => api.get<{ items: JobType[] }>('/v1/enrichment/job-types', signal), []);
  // Counts follow the stream, at most every 2 s.
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const reloadCounts = metrics.reload;
  const scheduleCounts = useCallback(() => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      reloadCounts();
    }, COUNTS_REFRESH_MS);
  }, [reloadCounts]);
  useEffect(() => () => {
    if (pending.current) clearTimeout(pending.current);
  }, []);
  useJobEvents(scheduleCounts);
  useStreamOpen(scheduleCounts);

  return (
    <>
      <div className="view-head">
        <h1 tabIndex={-1}>Jobs</h1>
      </div>
      {metrics.error ? <ErrorNotice error={metrics.error} title="Counts are not available" onRetry={metrics.reload} /> : null}
      <StatusTabs filter={filter} counts={metrics.data?.counts ?? null} onStatus={(status) => go({ ...filter, status })} />
      <JobFilters key={`filters?${key}`} filter={filter} types={types.data?.items.map((t) => t.name) ?? []} onApply={go} />
      <JobsPage key={`page?${key}`} filter={filter} />
    </>
  );
}

/** One filter's pages: the rows, paging, selection and bulk actions. */
function JobsPage({ filter }: { filter: JobFilter }) {
  const { api } = useServices();
  const now = useNow(15_000);
  // The cursors of the pages before this one, then this one's (null for the first page).
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const page = useLoad(async (signal) => {
    const p = await api.get<Page<Job>>(jobsApiPath(filter, cursor), signal);
    // The table measures from here to its rows laid out (JobTable).
    performance.clearMarks(RENDER_START_MARK);
    if (p.items.length > 0) performance.mark(RENDER_START_MARK);
    return p;
  }, [cursor]);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [bulk, setBulk] = useState<BulkAction | null>(null);

  useJobEvents((e) => {
    page.set((prev) => {
      if (!prev) return prev;
      const i = prev.items.findIndex((j) => j.id === e.job.id);
      if (i >= 0) {
        if (!isNewer(prev.items[i]!, e.job)) return prev;
        const items = prev.items.slice();
        items[i] = e.job;
        return { ...prev, items };
      }
      // A new job joins the first page when it matches the filter.
      if (e.type === 'job.created' && cursor === null && matchesFilter(e.job, filter)) {
        return { ...prev, items: [e.job, ...prev.items].slice(0, filter.limit) };
      }
      return prev;
    });
  });
  useStreamOpen(page.reload);

  const onToggle = useCallback((id: string) => {
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);
  const items = page.data?.items ?? [];
  const onToggleAll = (select: boolean) => setSelected(select ? new Set(items.map((j) => j.id)) : new Set());
  const chosen = [...selected];

  return (
    <section aria-labelledby="jobs-results" className="jobs-results">
      <div className="toolbar">
        <h2 id="jobs-results" className="toolbar-title">
          {page.data ? `${items.length} job${items.length === 1 ? '' : 's'} on page ${cursors.length}` : 'Results'}
        </h2>
        <div className="toolbar-actions" role="group" aria-label="Bulk actions">
          <span className="muted" aria-live="polite">
            {chosen.length} selected
          </span>
          <button type="button" disabled={chosen.length === 0} onClick={() => setBulk('cancel')}>
            Cancel selected
          </button>
          <button type="button" disabled={chosen.length === 0} onClick={() => setBulk('retry')}>
            Retry selected
          </button>
        </div>
      </div>
      {page.error ? <ErrorNotice error={page.error} title="The jobs could not be read" onRetry={page.reload} /> : null}
      {page.loading && !page.data ? <Loading label="Loading jobs…" /> : null}
      {page.data && items.length === 0 ? (
        <Empty>
          <p>No job matches these filters.</p>
          <p className="muted">
            Submit one with <code>POST /v1/enrichment/jobs</code>, or run a list through <a href="#/wizard">Lists &amp; plans</a>.
          </p>
        </Empty>
      ) : null}
      {items.length > 0 ? <JobTable jobs={items} selected={selected} now={now} onToggle={onToggle} onToggleAll={onToggleAll} /> : null}
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length <= 1 || page.loading} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <span className="muted">Page {cursors.length}</span>
        <button type="button" disabled={!page.data?.nextCursor || page.loading} onClick={() => setCursors((c) => [...c, page.data?.nextCursor ?? null])}>
          Next page
        </button>
      </nav>
      <BulkDialog
        action={bulk}
        jobIds={chosen}
        onClose={(changed) => {
          setBulk(null);
          if (changed) {
            setSelected(new Set());
            page.reload();
          }
        }}
      />
    </section>
  );
}
