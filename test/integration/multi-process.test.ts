// Two `enrichd api` and two `enrichd worker` processes on one PostgreSQL and one Redis behave
// as one system: jobs submitted through one API run on both workers, once each; their live
// events reach a client of the other API; one process at a time holds the leader lock, and
// another takes it over within a few polls when the leader is killed.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/api/token.js';
import { type Pool, createPool } from '../../src/db/pool.js';
import type { Job } from '../../src/jobs/job.js';
import { type Child, childEnv, freePort, killAllChildren, spawnEnrichd } from '../helpers/processes.js';
import { createTestDatabase, deletePrefix, testPrefix, waitFor } from '../helpers/system.js';
import { takeSseBlocks } from '../helpers/sse.js';
import { REDIS_URL, TEST_JWT_SECRET } from '../helpers/urls.js';

const POLL_INTERVAL = 200;
const JOBS = 40;
// src/queue/leader.ts's LEADER_LOCK_KEY, as pg_locks shows a bigint advisory key: high and
// low 32 bits in classid and objid, objsubid 1. Advisory locks are per database.
const LEADER_LOCK_KEY = 7_414_220_002n;
const LEADER_LOCK = `
SELECT coalesce(array_agg(pid ORDER BY pid), '{}') AS pids
FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 1
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND classid = $1::bigint::oid AND objid = $2::bigint::oid`;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const prefix = testPrefix('multi');
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase('multi');
  pool = createPool(db.url, 3);
  // Calm stall and heartbeat windows: on a busy machine a short one makes spurious hand-backs,
  // which are not what this test is about.
  env = childEnv(db.url, prefix, { POLL_INTERVAL: String(POLL_INTERVAL), STALLED_INTERVAL: '10000', HEALTH_CHECK_INTERVAL: '1000', MAX_CONCURRENT_JOBS: '2' });
});
afterAll(async () => {
  await killAllChildren();
  await pool?.end();
  await deletePrefix(REDIS_URL, prefix);
  await db?.drop();
});

/** The PostgreSQL backends holding the leader lock in this test's database. */
async function leaderLockHolders(): Promise<number[]> {
  const { rows } = await pool.query<{ pids: number[] }>(LEADER_LOCK, [String(LEADER_LOCK_KEY >> 32n), String(LEADER_LOCK_KEY & 0xffffffffn)]);
  return rows[0]!.pids;
}

/** Samples the lock's holders until stopped; the most seen at once must never pass one. */
function watchLeaderLock(): { stop: () => Promise<{ samples: number; most: number }> } {
  let stopped = false;
  let samples = 0;
  let most = 0;
  const loop = (async () => {
    while (!stopped) {
      most = Math.max(most, (await leaderLockHolders()).length);
      samples++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { samples, most };
    },
  };
}

interface SseEvent {
  id: string;
  type: string;
  job: Job;
}

/** An open event stream: the events read so far, until closed. */
interface EventStream {
  events: SseEvent[];
  close(): void;
}

/** Opens GET /v1/events and resolves once the server says it is connected. */
async function openEvents(base: string, token: string, lastEventId: string): Promise<EventStream> {
  const ac = new AbortController();
  const res = await fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${token}`, 'last-event-id': lastEventId }, signal: ac.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  let connected = () => {};
  const ready = new Promise<void>((r) => (connected = r));
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const taken = takeSseBlocks(buffer + decoder.decode(value, { stream: true }));
        buffer = taken.rest;
        for (const b of taken.blocks) {
          if (b.comment === 'connected') connected();
          if (b.id && b.data) {
            const parsed = JSON.parse(b.data) as { type: string; job: Job };
            events.push({ id: b.id, type: parsed.type, job: parsed.job });
          }
        }
      }
    } catch {
      // closed by the test
    }
  })();
  await ready;
  return { events, close: () => ac.abort() };
}

describe('two API and two worker processes', () => {
  it('run jobs once across both workers, serve events across APIs, and keep one leader', async () => {
    const children: Child[] = [];
    const streams: EventStream[] = [];
    try {
      await asOneSystem(children, streams);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${children.map((c) => c.output()).join('\n')}`, { cause: err });
    } finally {
      for (const s of streams) s.close();
    }
  });

  it('lets another process lead when the leader freezes (SIGSTOP), and the thawed one steps down', async () => {
    const children = [1, 2].map((i) => spawnEnrichd(['api'], { ...env, PORT: '0' }, `frozen-leader api ${i}`));
    const said = () => children.filter((c) => c.logs().some((l) => l.msg === 'became leader (relay, reconciler)'));
    try {
      const leader = await waitFor(async () => said()[0] ?? null, 15_000);
      const [heldBy] = await waitFor(async () => ((await leaderLockHolders()).length === 1 ? leaderLockHolders() : null), 5_000);
      leader.kill('SIGSTOP');
      const frozenAt = Date.now();
      // PostgreSQL ends the frozen leader's idle session (5 s), the other takes the lock at its next poll
      const next = await waitFor(async () => said().find((c) => c !== leader) ?? null, 15_000);
      const tookMs = Date.now() - frozenAt;
      const holders = await leaderLockHolders();
      expect(holders).toHaveLength(1);
      expect(holders[0]).not.toBe(heldBy);
      expect(tookMs).toBeLessThan(12_000);
      leader.kill('SIGCONT');
      await leader.waitForLog('leader connection lost; leadership released', 10_000);
      const watch = watchLeaderLock();
      await new Promise((r) => setTimeout(r, 5 * POLL_INTERVAL));
      const { most } = await watch.stop();
      expect(most).toBe(1);
      expect(said().filter((c) => c === next)).toHaveLength(1);
      for (const c of children) expect(await c.stop(), c.label).toEqual({ code: 0, signal: null });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${children.map((c) => c.output()).join('\n')}`, { cause: err });
    } finally {
      for (const c of children) c.kill('SIGCONT');
    }
  });
});

/** The scenario; the caller adds the children's output to a failure and closes what is left open. */
async function asOneSystem(children: Child[], streams: EventStream[]): Promise<void> {
  const ports = [await freePort(), await freePort()];
  const apis = ports.map((port, i) => spawnEnrichd(['api'], { ...env, PORT: String(port) }, `api ${i + 1}`));
  const workers = [1, 2].map((i) => spawnEnrichd(['worker'], env, `worker ${i}`));
  children.push(...apis, ...workers);
  await Promise.all([...apis.map((a) => a.waitForLog('api listening', 30_000)), ...workers.map((w) => w.waitForLog('worker started', 30_000))]);
  const [base1, base2] = ports.map((p) => `http://127.0.0.1:${p}`) as [string, string];
  const lock = watchLeaderLock();

  // 1. A client of API 2 listens (from the start of a new tenant's stream, so nothing is missed).
  const token = await signToken(TEST_JWT_SECRET, { tenantId: randomUUID(), ttl: '1h' });
  const stream = await openEvents(base2, token, '0-0');
  streams.push(stream);

  // 2. Jobs go in through API 1 only.
  const submit = async (base: string) => {
    const res = await fetch(`${base}/v1/enrichment/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'test_job', payload: { sleepMs: 150 } }),
    });
    expect(res.status).toBe(202);
    return (await res.json()) as Job;
  };
  const jobs = await Promise.all(Array.from({ length: JOBS }, () => submit(base1)));
  const ids = new Set(jobs.map((j) => j.id));

  // 3. API 2's client sees every one of them complete, run by the worker processes.
  const completedEvents = () => stream.events.filter((e) => e.type === 'job.completed' && ids.has(e.job.id));
  await waitFor(async () => (new Set(completedEvents().map((e) => e.job.id)).size === JOBS ? true : null), 60_000, 100);
  const workerOf = (workerId: string | null) => workers.find((w) => workerId?.includes(`:${w.pid}:`));
  const seenDone = completedEvents();
  expect(seenDone).toHaveLength(JOBS);
  expect(seenDone.every((e) => workerOf(e.job.workerId) !== undefined)).toBe(true);
  expect(new Set(seenDone.map((e) => workerOf(e.job.workerId))).size).toBe(2);
  expect(stream.events.filter((e) => e.type === 'job.started' && ids.has(e.job.id)).length).toBeGreaterThanOrEqual(JOBS);

  // 4. PostgreSQL agrees: each job completed exactly once, and both workers took some.
  const { rows } = await pool.query<{ id: string; status: string; worker_id: string; completions: number }>(
    `SELECT j.id, j.status, j.worker_id,
            (SELECT count(*) FROM enrichment_job_events e WHERE e.job_id = j.id AND e.to_status = 'completed')::int AS completions
     FROM enrichment_jobs j WHERE j.id = ANY($1::uuid[])`,
    [[...ids]],
  );
  expect(rows).toHaveLength(JOBS);
  expect(rows.every((r) => r.status === 'completed' && r.completions === 1)).toBe(true);
  const perWorker = workers.map((w) => rows.filter((r) => workerOf(r.worker_id) === w).length);
  expect(perWorker.every((n) => n > 0), `jobs per worker: ${perWorker.join(', ')}`).toBe(true);
  expect(perWorker[0]! + perWorker[1]!).toBe(JOBS);

  // 5. One leader: one process said so, and one backend holds the lock, never two at once.
  const said = () => children.filter((c) => c.logs().some((l) => l.msg === 'became leader (relay, reconciler)'));
  expect(said()).toHaveLength(1);
  const leader = said()[0]!;
  const [holder] = await waitFor(async () => {
    const pids = await leaderLockHolders();
    return pids.length === 1 ? pids : null;
  });

  // 6. The leader dies: another process holds the lock within a few polls.
  leader.kill('SIGKILL');
  const killedAt = Date.now();
  await leader.exited;
  const [successor] = await waitFor(async () => {
    const pids = await leaderLockHolders();
    return pids.length === 1 && pids[0] !== holder ? pids : null;
  }, 10_000, 20);
  const takeoverMs = Date.now() - killedAt;
  expect(successor).not.toBe(holder);
  expect(takeoverMs, `lock taken over ${takeoverMs} ms after the kill`).toBeLessThan(10 * POLL_INTERVAL + 1000);
  const next = await waitFor(async () => said().find((c) => c !== leader) ?? null, 5_000);
  expect(said()).toHaveLength(2);
  const { samples, most } = await lock.stop();
  expect(samples).toBeGreaterThan(10);
  expect(most, 'processes holding the leader lock at once').toBe(1);

  // 7. The rest still work as one: a job through a surviving API completes once.
  stream.close();
  const liveApi = apis.find((a) => a !== leader)!;
  const late = await submit(`http://127.0.0.1:${ports[apis.indexOf(liveApi)]}`);
  const lateRow = await waitFor(async () => {
    const { rows: r } = await pool.query<{ status: string; completions: number }>(
      `SELECT status, (SELECT count(*) FROM enrichment_job_events e WHERE e.job_id = j.id AND e.to_status = 'completed')::int AS completions
       FROM enrichment_jobs j WHERE id = $1::uuid`,
      [late.id],
    );
    return r[0]?.status === 'completed' ? r[0] : null;
  }, 20_000);
  expect(lateRow.completions).toBe(1);
  expect(next).not.toBe(leader);

  for (const c of children.filter((c) => c !== leader)) expect(await c.stop(), c.label).toEqual({ code: 0, signal: null });
}
