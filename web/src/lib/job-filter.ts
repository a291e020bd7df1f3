// The jobs view's filter: kept in the address bar's fragment (so a view can be linked and
// survives a reload), and turned into GET /v1/enrichment/jobs's query string.
import { JOB_STATUSES } from '../../../src/jobs/status';
import type { Job, JobStatus } from '../api/types';

export const PAGE_SIZES = [25, 50, 100, 200, 500] as const;
export const DEFAULT_PAGE_SIZE = 50;

export interface JobFilter {
  status: JobStatus | '';
  type: string;
  tag: string;
  /** free text: id, type, tags or last error */
  q: string;
  /** `datetime-local` values (the reader's local time), '' for none */
  createdAfter: string;
  createdBefore: string;
  limit: number;
}

export const EMPTY_FILTER: JobFilter = { status: '', type: '', tag: '', q: '', createdAfter: '', createdBefore: '', limit: DEFAULT_PAGE_SIZE };

const isStatus = (s: string): s is JobStatus => (JOB_STATUSES as readonly string[]).includes(s);
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/** Reads a filter from the fragment's parameters; anything unknown or malformed is dropped. */
export function filterFromParams(params: URLSearchParams): JobFilter {
  const status = params.get('status') ?? '';
  const limit = Number(params.get('limit'));
  const time = (k: string) => {
    const v = params.get(k) ?? '';
    return LOCAL_TIME.test(v) ? v : '';
  };
  return {
    status: isStatus(status) ? status : '',
    type: (params.get('type') ?? '').slice(0, 100),
    tag: (params.get('tag') ?? '').slice(0, 64),
    q: (params.get('q') ?? '').slice(0, 200),
    createdAfter: time('createdAfter'),
    createdBefore: time('createdBefore'),
    limit: (PAGE_SIZES as readonly number[]).includes(limit) ? limit : DEFAULT_PAGE_SIZE,
  };
}

/** The fragment's parameters for a filter (defaults and empty fields left out). */
export function filterToParams(f: JobFilter): URLSearchParams {
  const p = new URLSearchParams();
  if (f.status) p.set('status', f.status);
  if (f.type.trim()) p.set('type', f.type.trim());
  if (f.tag.trim()) p.set('tag', f.tag.trim());
  if (f.q.trim()) p.set('q', f.q.trim());
  if (f.createdAfter) p.set('createdAfter', f.createdAfter);
  if (f.createdBefore) p.set('createdBefore', f.createdBefore);
  if (f.limit !== DEFAULT_PAGE_SIZE) p.set('limit', String(f.limit));
  return p;
}

/** A `datetime-local` value (local time) as an ISO instant; null when it is not a time. */
export function localToIso(local: string): string | null {
  if (!LOCAL_TIME.test(local)) return null;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

/** GET /v1/enrichment/jobs with the filter and an optional cursor; the server filters and pages. */
export function jobsApiPath(f: JobFilter, cursor: string | null): string {
  const p = new URLSearchParams();
  if (f.status) p.set('status', f.status);
  if (f.type.trim()) p.set('type', f.type.trim());
  if (f.tag.trim()) p.set('tag', f.tag.trim());
  if (f.q.trim()) p.set('q', f.q.trim());
  const after = localToIso(f.createdAfter);
  const before = localToIso(f.createdBefore);
  if (after) p.set('createdAfter', after);
  if (before) p.set('createdBefore', before);
  p.set('limit', String(f.limit));
  if (cursor) p.set('cursor', cursor);
  return `/v1/enrichment/jobs?${p.toString()}`;
}

/**
 * Whether a job announced live belongs on the current first page: the same rules as the
 * server's filter, with free text matched on what the row shows (id, type, tags, last error).
 */
export function matchesFilter(job: Job, f: JobFilter): boolean {
  if (f.status && job.status !== f.status) return false;
  if (f.type.trim() && job.type !== f.type.trim()) return false;
  if (f.tag.trim() && !job.tags.includes(f.tag.trim())) return false;
  const created = Date.parse(job.createdAt);
  const after = localToIso(f.createdAfter);
  const before = localToIso(f.createdBefore);
  if (after && created < Date.parse(after)) return false;
  if (before && created >= Date.parse(before)) return false;
  const q = f.q.trim().toLowerCase();
  if (q) {
    const text = [job.id, job.type, ...job.tags, job.lastError?.message ?? ''].join(' ').toLowerCase();
    if (!text.includes(q)) return false;
  }
  return true;
}

/**
 * Whether a live event's copy of a job is newer than the one shown: an event sent before the
 * page was read may arrive after it, and must not move the row back.
 */
export function isNewer(shown: Job, incoming: Job): boolean {
  if (incoming.attempts !== shown.attempts) return incoming.attempts > shown.attempts;
  if (incoming.status === shown.status) return incoming.progress.processed >= shown.progress.processed;
  return true;
}
