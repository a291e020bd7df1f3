// @vitest-environment node
// The text/event-stream parser: events split across chunks, line endings, comments, ids.
import { describe, expect, it } from 'vitest';
import { type SseEvent, createSseParser } from '../../web/src/live/sse-parser';

function parse(chunks: string[]): { events: SseEvent[]; lastEventId: string; retryMs: number | null } {
  const events: SseEvent[] = [];
  const p = createSseParser((e) => events.push(e));
  for (const c of chunks) p.push(c);
  return { events, lastEventId: p.lastEventId, retryMs: p.retryMs };
}

describe('createSseParser', () => {
  it('parses events with id, type and data, skipping comments', () => {
    const { events, lastEventId } = parse([': connected\n\nid: 1-0\nevent: job.created\ndata: {"a":1}\n\n: keep-alive\n\nid: 2-0\nevent: job.completed\ndata: {"b":2}\n\n']);
    expect(events).toEqual([
      { id: '1-0', event: 'job.created', data: '{"a":1}' },
      { id: '2-0', event: 'job.completed', data: '{"b":2}' },
    ]);
    expect(lastEventId).toBe('2-0');
  });

  it('joins an event split at any byte, across CRLF, CR and LF line endings', () => {
    const text = 'id: 7-1\r\nevent: job.progress\r\ndata: x\r\n\r\nid: 8-0\rdata: y\r\rdata: z\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      const { events } = parse([text.slice(0, cut), text.slice(cut)]);
      expect(events.map((e) => [e.id, e.event, e.data])).toEqual([
        ['7-1', 'job.progress', 'x'],
        ['8-0', 'message', 'y'],
        ['8-0', 'message', 'z'],
      ]);
    }
  });

  it('joins multi-line data with newlines, keeps the id across events, and reads retry', () => {
    const { events, retryMs } = parse(['retry: 3000\nid: 5-0\ndata: one\ndata: two\n\ndata:three\n\n']);
    expect(events).toEqual([
      { id: '5-0', event: 'message', data: 'one\ntwo' },
      { id: '5-0', event: 'message', data: 'three' },
    ]);
    expect(retryMs).toBe(3000);
  });

  it('dispatches nothing for an event without data or an unfinished one, and drops a BOM', () => {
    expect(parse(['event: job.created\n\n', 'data: half']).events).toEqual([]);
    expect(parse(['\uFEFFdata: ok\n\n']).events).toEqual([{ id: '', event: 'message', data: 'ok' }]);
  });
});
