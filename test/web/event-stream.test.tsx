// @vitest-environment node
// The live stream over fetch: the Authorization header, events in order, reconnection with
// Last-Event-ID after a drop, and sign-out on a 401.
import { describe, expect, it } from 'vitest';
import type { JobEventMessage } from '../../web/src/api/types';
import { type StreamState, openEventStream, reconnectDelay } from '../../web/src/live/event-stream';

const frame = (id: string, type: string, jobId: string) => `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ type, job: { id: jobId } })}\n\n`;

/** A fetch that answers each call with the next scripted body (chunks), then hangs. */
function scriptedFetch(answers: { status: number; chunks: string[] }[]) {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const impl = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), headers: { ...(init?.headers as Record<string, string>) } });
    const answer = answers.shift();
    if (!answer) return new Promise<Response>(() => undefined);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of answer.chunks) c.enqueue(new TextEncoder().encode(chunk));
        c.close();
      },
    });
    return new Response(body, { status: answer.status, headers: { 'content-type': 'text/event-stream' } });
  }) as typeof fetch;
  return { impl, calls };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('openEventStream', () => {
  it('reads events with the token in the header and resumes from the last id after a drop', async () => {
    const f = scriptedFetch([
      { status: 200, chunks: [': connected\n\n', frame('1-0', 'job.created', 'a').slice(0, 20), frame('1-0', 'job.created', 'a').slice(20), frame('2-0', 'job.started', 'a')] },
      { status: 200, chunks: [frame('3-0', 'job.completed', 'a')] },
    ]);
    const events: JobEventMessage[] = [];
    const states: StreamState[] = [];
    const close = openEventStream({ url: '/v1/events', token: 'T', fetchImpl: f.impl, onEvent: (e) => events.push(e), onState: (s) => states.push(s), onUnauthorized: () => undefined, delayMs: 1 });
    await until(() => events.length === 3);
    close();
    expect(events.map((e) => [e.id, e.type, e.job.id])).toEqual([
      ['1-0', 'job.created', 'a'],
      ['2-0', 'job.started', 'a'],
      ['3-0', 'job.completed', 'a'],
    ]);
    expect(f.calls[0]).toEqual({ url: '/v1/events', headers: { authorization: 'Bearer T', accept: 'text/event-stream' } });
    expect(f.calls[1]!.headers['last-event-id']).toBe('2-0');
    expect(f.calls.every((c) => !c.url.includes('T'))).toBe(true);
    expect(states.slice(0, 3)).toEqual(['connecting', 'open', 'reconnecting']);
  });

  it('signs out on a 401 and does not reconnect', async () => {
    const f = scriptedFetch([{ status: 401, chunks: ['{"error":{}}'] }]);
    let refused = 0;
    openEventStream({ url: '/v1/events', token: 'bad', fetchImpl: f.impl, onEvent: () => undefined, onState: () => undefined, onUnauthorized: () => refused++, delayMs: 1 });
    await until(() => refused === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(f.calls).toHaveLength(1);
  });

  it('backs off by doubling, up to a cap', () => {
    expect([0, 1, 2, 3, 10].map((n) => reconnectDelay(n, 500, 10_000))).toEqual([500, 1000, 2000, 4000, 10_000]);
  });
});
