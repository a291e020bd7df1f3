// Baseline for (a): a bare Fastify route that does only `queue.add` (child process).
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const env = process.env;
const port = Number(env.PORT);
const connection = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
const queue = new Queue('jobs', { connection, prefix: env.QUEUE_PREFIX, skipVersionCheck: true });
const app = Fastify({ logger: { level: env.LOG_LEVEL ?? 'warn' } });

app.post('/v1/enrichment/jobs', async (request, reply) => {
  const body = request.body as { type?: string };
  const id = randomUUID();
  // The same task options enrichd gives its tasks, so Redis does the same work per add.
  await queue.add(body.type ?? 'test_job', { tenantId: 'bench', type: body.type ?? 'test_job' }, {
    jobId: id,
    priority: 3,
    attempts: 1_000_000,
    removeOnComplete: true,
    removeOnFail: true,
  });
  return reply.status(202).send({ id, status: 'pending' });
});
app.get('/health', async () => ({ status: 'ok' }));

await app.listen({ port, host: '127.0.0.1' });
process.on('SIGTERM', () => {
  void app.close().then(() => queue.close()).then(() => {
    connection.disconnect();
    process.exit(0);
  });
});
