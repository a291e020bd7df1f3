// A plain node:http reader of text/event-stream, for the operations bench: one connection per
// client (no shared agent), frames parsed by their `id:`, `event:` and `data:` lines.
import { type IncomingMessage, request } from 'node:http';

/** One event as the client got it, stamped (Date.now()) when the chunk holding its end arrived. */
export interface SseFrame {
  id: string | undefined;
  event: string | undefined;
  data: string;
  receivedAt: number;
}

export interface SseClient {
  /** closes the connection */
  close(): void;
  /** the error that ended the stream, if one did */
  readonly error: Error | undefined;
}

export interface SseOptions {
  port: number;
  path: string;
  token: string;
  onFrame: (frame: SseFrame) => void;
  /** how long to wait for the response and its first line */
  timeoutMs?: number;
}

/**
 * Opens an event stream; resolves once the server answered 200 and sent its first line (the
 * `: connected` comment), so the stream is live before the caller makes anything happen.
 */
export function connectSse(opts: SseOptions): Promise<SseClient> {
  return new Promise<SseClient>((resolve, reject) => {
    let settled = false;
    let error: Error | undefined;
    let res: IncomingMessage | undefined;
    const req = request({
      host: '127.0.0.1',
      port: opts.port,
      path: opts.path,
      method: 'GET',
      agent: false,
      headers: { authorization: `Bearer ${opts.token}`, accept: 'text/event-stream' },
    });
    const client: SseClient = {
      close: () => {
        res?.destroy();
        req.destroy();
      },
      get error() {
        return error;
      },
    };
    const timer = setTimeout(() => fail(new Error(`no event stream from port ${opts.port} within ${opts.timeoutMs ?? 10_000} ms`)), opts.timeoutMs ?? 10_000);
    const fail = (err: Error) => {
      error = err;
      clearTimeout(timer);
      client.close();
      if (!settled) {
        settled = true;
        reject(err);
      }
    };
    req.on('error', fail);
    req.on('response', (response) => {
      res = response;
      if (response.statusCode !== 200) {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (c: string) => (body += c));
        response.on('end', () => fail(new Error(`event stream answered ${response.statusCode}: ${body.slice(0, 200)}`)));
        return;
      }
      response.setEncoding('utf8');
      let buffer = '';
      let id: string | undefined;
      let event: string | undefined;
      let data: string[] = [];
      response.on('data', (chunk: string) => {
        const receivedAt = Date.now();
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve(client);
        }
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            // A blank line ends an event; one with no data (a comment block) is not dispatched.
            if (data.length > 0) opts.onFrame({ id, event, data: data.join('\n'), receivedAt });
            event = undefined;
            data = [];
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') id = value;
          else if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
      });
      response.on('error', (err) => (error = err));
      response.on('end', () => {
        if (!settled) fail(new Error('event stream ended before its first line'));
      });
    });
    req.end();
  });
}
