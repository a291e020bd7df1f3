// @vitest-environment happy-dom
// The pieces of the views with logic, rendered: action buttons follow the job's status, rows
// select for bulk actions, and the 401 of any call signs out.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { createApi } from '../../web/src/api/client';
import type { Job } from '../../web/src/api/types';
import { AppContext } from '../../web/src/app-context';
import { createEventHub } from '../../web/src/live/event-hub';
import { JobActions } from '../../web/src/views/detail/JobActions';
import { JobTable } from '../../web/src/views/jobs/JobTable';

afterEach(cleanup);

const job = (over: Partial<Job> = {}): Job => ({
  id: '6f1c2b9e-1111-4222-8333-944445555666',
  tenantId: '0000de00-0000-4000-8000-000000000001',
  type: 'test_job',
  status: 'failed',
  priority: 3,
  payload: {},
  tags: ['nightly'],
  attempts: 1,
  maxAttempts: 1,
  workerId: null,
  progress: { total: 1, processed: 1, succeeded: 0, failed: 1 },
  result: null,
  lastError: null,
  webhookUrl: null,
  runAt: null,
  createdAt: new Date(Date.now() - 90_000).toISOString(),
  startedAt: null,
  completedAt: null,
  durationMs: null,
  ...over,
});

function withServices(ui: ReactNode, fetchImpl: typeof fetch, onUnauthorized: () => void = () => undefined) {
  const services = { api: createApi('T', onUnauthorized, fetchImpl), hub: createEventHub() };
  return render(<AppContext.Provider value={services}>{ui}</AppContext.Provider>);
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const button = (name: string) => screen.getByRole('button', { name }) as HTMLButtonElement;

describe('JobActions', () => {
  it('enables retry for a failed job and sends it; cancel and priority stay off', async () => {
    const sent: { url: string; method: string; body: string }[] = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      sent.push({ url, method: init.method ?? 'GET', body: String(init.body) });
      return json(202, job({ status: 'pending' }));
    }) as unknown as typeof fetch;
    let changed: Job | null = null;
    withServices(<JobActions job={job()} onChanged={(j) => (changed = j)} />, fetchImpl);
    expect(button('Retry').disabled).toBe(false);
    expect(button('Cancel job').disabled).toBe(true);
    expect(button('Change priority').disabled).toBe(true);
    expect(button('Retry failed entries').disabled).toBe(true);
    await act(async () => {
      fireEvent.click(button('Retry'));
    });
    expect(sent).toEqual([{ url: '/v1/enrichment/jobs/6f1c2b9e-1111-4222-8333-944445555666/retry', method: 'POST', body: '{"scope":"job"}' }]);
    expect(changed).toMatchObject({ status: 'pending' });
    expect(screen.getByText('Retried: the job is pending again.')).toBeTruthy();
  });

  it('enables cancel and priority for a running list job, and retry of failed entries once it finished with some', () => {
    const never = (async () => json(500, {})) as unknown as typeof fetch;
    const { rerender } = withServices(<JobActions job={job({ status: 'running', type: 'list_enrichment' })} onChanged={() => undefined} />, never);
    expect(button('Cancel job').disabled).toBe(false);
    expect(button('Retry').disabled).toBe(true);
    expect(button('Retry failed entries').disabled).toBe(true);
    const services = { api: createApi('T', () => undefined, never), hub: createEventHub() };
    rerender(
      <AppContext.Provider value={services}>
        <JobActions job={job({ status: 'completed', type: 'list_enrichment', progress: { total: 10, processed: 10, succeeded: 8, failed: 2 } })} onChanged={() => undefined} />
      </AppContext.Provider>,
    );
    expect(button('Retry failed entries').disabled).toBe(false);
    expect(button('Cancel job').disabled).toBe(true);
  });

  it('signs out when the API answers 401', async () => {
    let signedOut = 0;
    const refused = (async () => json(401, { error: { code: 'unauthorized', message: 'Invalid token.', details: [] } })) as unknown as typeof fetch;
    withServices(<JobActions job={job()} onChanged={() => undefined} />, refused, () => {
      signedOut++;
    });
    await act(async () => {
      fireEvent.click(button('Retry'));
    });
    expect(signedOut).toBe(1);
  });
});

describe('JobTable', () => {
  it('shows each job as a row with its short id, type, status, progress, tags and age, and selects rows', () => {
    const jobs = [job(), job({ id: 'aaaaaaaa-1111-4222-8333-944445555666', status: 'running', tags: [] })];
    const toggled: string[] = [];
    let all: boolean | null = null;
    render(<JobTable jobs={jobs} selected={new Set([jobs[0]!.id])} now={Date.now()} onToggle={(id) => toggled.push(id)} onToggleAll={(s) => (all = s)} />);
    const rows = screen.getAllByRole('row').slice(1);
    expect(rows.map((r) => r.textContent)).toEqual(['6f1c2b9etest_jobfailed1 / 1, 1 failednightly1 min 30 s', 'aaaaaaaatest_jobrunning1 / 1, 1 failednone1 min 30 s']);
    expect((screen.getByLabelText('Select job 6f1c2b9e') as HTMLInputElement).checked).toBe(true);
    fireEvent.click(screen.getByLabelText('Select job aaaaaaaa'));
    expect(toggled).toEqual(['aaaaaaaa-1111-4222-8333-944445555666']);
    fireEvent.click(screen.getByLabelText('Select all jobs on this page'));
    expect(all).toBe(true);
    expect(screen.getByRole('link', { name: /^Job 6f1c2b9e/ }).getAttribute('href')).toBe('#/jobs/6f1c2b9e-1111-4222-8333-944445555666');
  });
});
