// A page of the tenant's jobs, newest first, filtered by status, type, tag, time and free text.
import type { Tx } from '../db/transaction.js';
import { type CreatedKey, encodeCreatedCursor } from '../lists/cursor.js';
import { pageOf } from '../lists/repository.js';
import { type Job, type JobRow, toJob } from './job.js';
import type { JobStatus } from './status.js';

export interface JobListFilter {
  /** any of these statuses */
  statuses?: JobStatus[];
  type?: string;
  /** jobs carrying this tag (exact) */
  tag?: string;
  /** case-insensitive substring of the id, type, a tag or the last error's message */
  q?: string;
  /** created at or after */
  createdAfter?: Date;
  /** created before */
  createdBefore?: Date;
}

export interface JobPage {
  items: Job[];
  nextCursor: string | null;
}

// enrichd_list_jobs (migration 0003) adds only the given filters and takes the tenant from
// app.tenant_id: run inside withTenant. It is SECURITY DEFINER so that the tag and text
// searches can use their GIN indexes, which row-level security would forbid (see 0003).
// The outer ORDER BY only restates the function's order (a set function promises none).
const LIST_JOBS = `
SELECT j.*, (extract(epoch FROM j.created_at) * 1000000)::bigint::text AS micros
FROM enrichd_list_jobs($1::text[], $2::text, $3::text, '%' || lower($4::text) || '%',
                       $5::timestamptz, $6::timestamptz, $7::bigint, $8::uuid, $9::int) AS j
ORDER BY j.created_at DESC, j.id DESC`;

/** LIKE's wildcards and its escape character, taken literally. */
const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** One page of the current tenant's jobs, newest first, after the cursor's position. */
export async function listJobs(tx: Tx, filter: JobListFilter, limit: number, after: CreatedKey | null): Promise<JobPage> {
  const { rows } = await tx.query<JobRow & { micros: string }>(LIST_JOBS, [
    filter.statuses && filter.statuses.length > 0 ? filter.statuses : null,
    filter.type ?? null,
    filter.tag ?? null,
    filter.q !== undefined ? escapeLike(filter.q) : null,
    filter.createdAfter ?? null,
    filter.createdBefore ?? null,
    after?.micros ?? null,
    after?.id ?? null,
    limit + 1,
  ]);
  return pageOf(rows, limit, toJob, (r) => encodeCreatedCursor({ micros: r.micros, id: r.id }));
}
