// @vitest-environment node
// The jobs filter: fragment parameters, the API's query string, and live rows that match.
import { describe, expect, it } from 'vitest';
import type { Job } from '../../web/src/api/types';
import { EMPTY_FILTER, filterFromParams, filterToParams, isNewer, jobsApiPath, localToIso, matchesFilter } from '../../web/src/lib/job-filter';
import { parseRoute } from '../../web/src/lib/route';

const job = (over: Partial<Job> = {}): Job => ({
  id: '6f1c2b9e-1111-4222-8333-944445555666',
  tenantId: '0000de00-0000-4000-8000-000000000001',
  type: 'test_job',
  status: 'pending',
  priority: 3,
  payload: {},
  tags: ['nightly'],
  attempts: 0,
  maxAttempts: 3,
  workerId: null,
  progress: { total: 1, processed: 0, succeeded: 0, failed: 0 },
  result: null,
  lastError: null,
  webhookUrl: null,
  runAt: null,
  createdAt: '2026-01-02T10:00:00.000Z',
  startedAt: null,
  completedAt: null,
  durationMs: null,
  ...over,
});

describe('job filter', () => {
  it('round-trips through the fragment, dropping what is not valid', () => {
    const f = { ...EMPTY_FILTER, status: 'failed' as const, type: 'test_job', tag: 'nightly', q: 'timeout', createdAfter: '2026-01-02T09:30', limit: 500 };
    expect(filterFromParams(filterToParams(f))).toEqual(f);
    expect(filterToParams(EMPTY_FILTER).toString()).toBe('');
    expect(filterFromParams(new URLSearchParams('status=nope&limit=7&createdAfter=yesterday'))).toEqual(EMPTY_FILTER);
  });

  it('makes the API query string, times as ISO instants, with the cursor', () => {
    const f = { ...EMPTY_FILTER, status: 'running' as const, q: ' a b ', tag: 'x&y', createdBefore: '2026-01-02T09:30' };
    const path = jobsApiPath(f, 'CURSOR1');
    const q = new URL(path, 'http://x').searchParams;
    expect(path.startsWith('/v1/enrichment/jobs?')).toBe(true);
    expect(Object.fromEntries(q)).toEqual({ status: 'running', q: 'a b', tag: 'x&y', createdBefore: localToIso('2026-01-02T09:30'), limit: '50', cursor: 'CURSOR1' });
    expect(new Date(q.get('createdBefore')!).getTime()).toBe(new Date('2026-01-02T09:30').getTime());
    expect(jobsApiPath(EMPTY_FILTER, null)).toBe('/v1/enrichment/jobs?limit=50');
  });

  it('matches live jobs against the filter as the server would', () => {
    expect(matchesFilter(job(), EMPTY_FILTER)).toBe(true);
    expect(matchesFilter(job(), { ...EMPTY_FILTER, status: 'failed' })).toBe(false);
    expect(matchesFilter(job(), { ...EMPTY_FILTER, tag: 'nightly', type: 'test_job' })).toBe(true);
    expect(matchesFilter(job(), { ...EMPTY_FILTER, q: '6F1C2B' })).toBe(true);
    expect(matchesFilter(job({ lastError: { message: 'Upstream timeout', at: '' } }), { ...EMPTY_FILTER, q: 'timeout' })).toBe(true);
    expect(matchesFilter(job(), { ...EMPTY_FILTER, q: 'timeout' })).toBe(false);
  });

  it('keeps a row from moving back when an older event arrives late', () => {
    const shown = job({ status: 'running', attempts: 1, progress: { total: 10, processed: 5, succeeded: 5, failed: 0 } });
    expect(isNewer(shown, job({ status: 'running', attempts: 1, progress: { total: 10, processed: 3, succeeded: 3, failed: 0 } }))).toBe(false);
    expect(isNewer(shown, job({ status: 'running', attempts: 1, progress: { total: 10, processed: 7, succeeded: 7, failed: 0 } }))).toBe(true);
    expect(isNewer(shown, job({ status: 'pending', attempts: 0 }))).toBe(false);
    expect(isNewer(shown, job({ status: 'completed', attempts: 1 }))).toBe(true);
  });

  it('routes fragments to views', () => {
    expect(parseRoute('')).toMatchObject({ name: 'jobs' });
    expect(parseRoute('#/jobs?status=failed')).toMatchObject({ name: 'jobs' });
    expect(parseRoute('#/jobs/6F1C2B9E-1111-4222-8333-944445555666')).toEqual({ name: 'job', id: '6f1c2b9e-1111-4222-8333-944445555666' });
    expect(parseRoute('#/jobs/not-a-uuid')).toMatchObject({ name: 'not-found' });
    expect(parseRoute('#/metrics')).toEqual({ name: 'metrics' });
    expect(parseRoute('#/wizard')).toEqual({ name: 'wizard' });
  });
});
