// A loopback webhook receiver for the operations bench: answers 200 to every POST and stamps
// (Date.now()) when each delivery's body has fully arrived.
import { once } from 'node:events';
import { type Server, createServer } from 'node:http';

/** One delivery as received: the body's `type` and `data.job.id`, and when it arrived. */
export interface Delivery {
  type: string;
  jobId: string;
  receivedAt: number;
  /** the Standard Webhooks `webhook-id` header */
  webhookId: string | undefined;
}

export interface Receiver {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (a free port) and calls onDelivery for each well-formed POST. */
export async function startReceiver(onDelivery: (d: Delivery) => void): Promise<Receiver> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receivedAt = Date.now();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: unknown; data?: { job?: { id?: unknown } } };
        const jobId = body.data?.job?.id;
        const header = req.headers['webhook-id'];
        if (typeof body.type === 'string' && typeof jobId === 'string') {
          onDelivery({ type: body.type, jobId, receivedAt, webhookId: typeof header === 'string' ? header : undefined });
        }
      } catch {
        // not a delivery: ignored
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}/hook`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}
