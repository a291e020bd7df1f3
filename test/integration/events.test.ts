// Live events over SSE: fed through Redis streams, so any API instance serves any worker's
// events; resumable with Last-Event-ID; a tenant sees only its own.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Job } from '../../src/jobs/job.js';
import { postJson } from '../helpers/api.js';
import { takeSseBlocks } from '../helpers/sse.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

interface SseEvent {
  id?: string;
  event?: string;
  data?: { type: string; job: Job };
}

/** Reads an SSE response until `until` says stop or the timeout passes; returns the events read. */
async function readEvents(url: string, token: string, until: (events: SseEvent[]) => boolean, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<SseEvent[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      const taken = takeSseBlocks(buffer + decoder.decode(value, { stream: true }));
      buffer = taken.rest;
      for (const b of taken.blocks) {
        if (b.event) events.push({ id: b.id, event: b.event, data: b.data === undefined ? undefined : (JSON.parse(b.data) as SseEvent['data']) });
      }
    }
    ac.abort();
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  return events;
}

let sys: TestSystem;
let other: FastifyInstance;
let base: string;
let otherBase: string;
let token: string;

beforeAll(async () => {
  sys = await startTestSystem();
  await sys.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(sys.app.server.address() as { port: number }).port}`;
  // A second API instance on the same stores: events reach it too.
  const s = sys.services;
  other = await buildApp({ config: s.config, pool: s.pool, redis: s.redis, registry: s.registry, submitter: s.submitter, dispatcher: s.dispatcher, log: s.log, events: s.events });
  await other.listen({ port: 0, host: '127.0.0.1' });
  otherBase = `http://127.0.0.1:${(other.server.address() as { port: number }).port}`;
  token = await sys.token({ tenantId: randomUUID() });
});
afterAll(async () => {
  await other?.close();
  await sys?.close();
});

describe('live events', () => {
  it('streams a job\'s life, then resumes after Last-Event-ID on another instance', async () => {
    const live = readEvents(`${base}/v1/events`, token, (ev) => ev.some((e) => e.event === 'job.completed'));
    await new Promise((r) => setTimeout(r, 300));
    const job = (await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', payload: { sleepMs: 50 } })).body;
    const events = await live;
    expect(events.map((e) => e.event)).toEqual(['job.created', 'job.started', 'job.completed']);
    expect(events.every((e) => e.data?.job.id === job.id && e.data.type === e.event)).toBe(true);
    expect(events[2]!.data!.job.status).toBe('completed');
    const ids = events.map((e) => e.id!);
    expect([...ids].sort((a, b) => (BigInt(a.split('-')[0]!) - BigInt(b.split('-')[0]!) || Number(a.split('-')[1]) - Number(b.split('-')[1])) > 0 ? 1 : -1)).toEqual(ids);

    const resumed = await readEvents(`${otherBase}/v1/events`, token, (ev) => ev.length >= 2, { 'last-event-id': ids[0]! });
    expect(resumed.map((e) => [e.id, e.event])).toEqual([[ids[1], 'job.started'], [ids[2], 'job.completed']]);
  });

  it('shows a tenant only its own events, and one job\'s stream only that job', async () => {
    const stranger = await sys.token({ tenantId: randomUUID() });
    const strangers = readEvents(`${base}/v1/events`, stranger, () => false, {}, 2_000);
    const a = (await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job' })).body;
    const b = (await postJson(sys.app, '/v1/enrichment/jobs', token, { type: 'test_job', delayMs: 300 })).body;
    const jobStream = await readEvents(`${otherBase}/v1/enrichment/jobs/${b.id}/events`, token, (ev) => ev.some((e) => e.event === 'job.completed'));
    expect(jobStream.map((e) => e.event)).toEqual(['job.started', 'job.completed']);
    expect(jobStream.every((e) => e.data?.job.id === b.id)).toBe(true);
    expect(a.id).not.toBe(b.id);
    expect(await strangers).toEqual([]);
    const foreign = await fetch(`${base}/v1/enrichment/jobs/${a.id}/events`, { headers: { authorization: `Bearer ${stranger}` } });
    expect(foreign.status).toBe(404);
    const noToken = await fetch(`${base}/v1/events`);
    expect(noToken.status).toBe(401);
  });
});
