// Reads GET /v1/events with fetch (the Authorization header, which EventSource cannot send),
// parses it, and reconnects with Last-Event-ID after a drop, so no event is missed.
import type { JobEventMessage } from '../api/types';
import { createSseParser } from './sse-parser';

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface EventStreamOptions {
  url: string;
  token: string;
  onEvent(e: JobEventMessage): void;
  /** 'open' after each (re)connection: views re-read what may have changed in the gap */
  onState(state: StreamState): void;
  onUnauthorized(): void;
  fetchImpl?: typeof fetch;
  /** first reconnection delay, doubled up to maxDelayMs */
  delayMs?: number;
  maxDelayMs?: number;
}

/** The delay before reconnection attempt n (0-based): doubling, capped. */
export function reconnectDelay(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
}

/** Opens the stream and keeps it open until the returned function is called. */
export function openEventStream(opts: EventStreamOptions): () => void {
  const controller = new AbortController();
  const fetchImpl = opts.fetchImpl ?? fetch.bind(globalThis);
  let lastEventId = '';
  let stopped = false;

  const run = async () => {
    let failures = 0;
    while (!stopped) {
      opts.onState(failures === 0 && lastEventId === '' ? 'connecting' : 'reconnecting');
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${opts.token}`, accept: 'text/event-stream' };
        if (lastEventId !== '') headers['last-event-id'] = lastEventId;
        const res = await fetchImpl(opts.url, { headers, signal: controller.signal, cache: 'no-store', credentials: 'omit' });
        if (res.status === 401) {
          opts.onUnauthorized();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        failures = 0;
        opts.onState('open');
        const parser = createSseParser((e) => {
          lastEventId = e.id;
          let message: { type?: string; job?: JobEventMessage['job'] };
          try {
            message = JSON.parse(e.data) as typeof message;
          } catch {
            return; // not ours
          }
          if (message.job && typeof message.job.id === 'string') opts.onEvent({ id: e.id, type: message.type ?? e.event, job: message.job });
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
        }
      } catch (err) {
        if (stopped || (err as Error).name === 'AbortError') return;
      }
      if (stopped) return;
      const delay = reconnectDelay(failures++, opts.delayMs ?? 500, opts.maxDelayMs ?? 10_000);
      await new Promise((r) => setTimeout(r, delay));
    }
  };
  void run();
  return () => {
    stopped = true;
    opts.onState('closed');
    controller.abort();
  };
}
