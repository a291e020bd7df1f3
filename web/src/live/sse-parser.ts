// An incremental text/event-stream parser (the WHATWG "event stream interpretation"): chunks
// of any size in, whole events out. EventSource cannot send an Authorization header, so the
// dashboard reads the stream with fetch and parses it here.

export interface SseEvent {
  /** the last `id:` seen so far (it carries over to later events, as in EventSource) */
  id: string;
  /** `event:`, or "message" when absent */
  event: string;
  data: string;
}

export interface SseParser {
  /** feeds decoded text; calls onEvent for every event it completes */
  push(text: string): void;
  /** the id to resume from (Last-Event-ID) */
  readonly lastEventId: string;
  /** a `retry:` the server asked for, in ms */
  readonly retryMs: number | null;
}

/** Creates a parser that calls onEvent for each complete event, in order. */
export function createSseParser(onEvent: (e: SseEvent) => void): SseParser {
  let buffer = '';
  let lastEventId = '';
  let retryMs: number | null = null;
  let eventType = '';
  let data: string[] = [];
  let sawFirstChunk = false;

  const dispatch = () => {
    if (data.length === 0) {
      eventType = '';
      return;
    }
    const e = { id: lastEventId, event: eventType === '' ? 'message' : eventType, data: data.join('\n') };
    eventType = '';
    data = [];
    onEvent(e);
  };

  const line = (l: string) => {
    if (l === '') {
      dispatch();
      return;
    }
    if (l.startsWith(':')) return; // a comment (keep-alive)
    const colon = l.indexOf(':');
    const field = colon === -1 ? l : l.slice(0, colon);
    let value = colon === -1 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        eventType = value;
        break;
      case 'data':
        data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) retryMs = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  };

  return {
    push(text: string) {
      buffer += text;
      if (!sawFirstChunk && buffer.length > 0) {
        sawFirstChunk = true;
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
      }
      // Lines end with CRLF, LF or CR; a CR at the very end may be half of a CRLF still coming.
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c === '\n' || c === '\r') {
          if (c === '\r' && i === buffer.length - 1) break;
          line(buffer.slice(start, i));
          if (c === '\r' && buffer[i + 1] === '\n') i++;
          start = i + 1;
        }
      }
      buffer = buffer.slice(start);
    },
    get lastEventId() {
      return lastEventId;
    },
    get retryMs() {
      return retryMs;
    },
  };
}
