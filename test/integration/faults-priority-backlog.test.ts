// A backlog built while no worker runs is taken in priority order (1 first), FIFO within a priority.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningParts, startParts, stopParts } from '../../src/runtime/services.js';
import { postJson } from '../helpers/api.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';

let sys: TestSystem;
let worker: RunningParts | undefined;

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0, env: { MAX_CONCURRENT_JOBS: '1' } });
});
afterAll(async () => {
  if (worker) await stopParts(worker);
  await sys?.close();
});

describe('priority order of a backlog', () => {
  it('starts jobs by priority, then by submission', async () => {
    const token = await sys.token();
    const priorities = [3, 5, 1, 2, 3, 1, 4, 5, 2, 1];
    const submitted: { id: string; priority: number; seq: number }[] = [];
    // One at a time, so the submission order is well defined.
    for (const [seq, priority] of priorities.entries()) {
      const res = await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', priority, payload: { seq } });
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('pending');
      submitted.push({ id: res.body.id, priority, seq });
    }
    await waitFor(async () => {
      const { rows } = await sys.services.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM enrichment_jobs WHERE dispatched_at IS NOT NULL');
      return rows[0]!.n === priorities.length;
    }, 5000);

    worker = await startParts(sys.services, { api: false, leader: false, workers: 1 }, () => true);
    await waitFor(async () => {
      const { rows } = await sys.services.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM enrichment_jobs WHERE status = 'completed'");
      return rows[0]!.n === priorities.length;
    }, 15_000);

    const { rows } = await sys.services.pool.query<{ id: string }>('SELECT id FROM enrichment_jobs ORDER BY started_at, id');
    const expected = [...submitted].sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    const describeJob = (id: string) => {
      const j = submitted.find((s) => s.id === id)!;
      return `p${j.priority}#${j.seq}`;
    };
    expect(rows.map((r) => describeJob(r.id))).toEqual(expected.map((j) => describeJob(j.id)));
  });
});
