// Baseline worker for (a), (b) and (c): a bare BullMQ Worker with a no-op processor (child process).
// BENCH_MODE: run (just process), stamp (report each processor start), count (report the run's span).
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { SpanReport, StampReport } from './messages.js';

const env = process.env;
const mode = env.BENCH_MODE ?? 'run';
const expected = Number(env.BENCH_EXPECT ?? 0);
const now = () => performance.timeOrigin + performance.now();
const send = (m: unknown) => process.send?.(m);

let firstStart = 0;
let lastDone = 0;
let done = 0;
let stamps: [string, number][] = [];

const connection = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const worker = new Worker(
  'jobs',
  async (job) => {
    const t = now();
    if (firstStart === 0) firstStart = t;
    if (mode === 'stamp') stamps.push([job.id!, t]);
  },
  { connection, prefix: env.QUEUE_PREFIX, concurrency: Number(env.MAX_CONCURRENT_JOBS ?? 100), skipVersionCheck: true },
);
worker.on('completed', () => {
  lastDone = now();
  done++;
  if (mode === 'count' && done === expected) send({ kind: 'span', first: firstStart, last: lastDone, count: done } satisfies SpanReport);
});
worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));

// Stamps go out in small batches so IPC does not sit on the measured path.
if (mode === 'stamp') {
  setInterval(() => {
    if (stamps.length === 0) return;
    send({ kind: 'stamps', stamps } satisfies StampReport);
    stamps = [];
  }, 20);
}

await worker.waitUntilReady();
send({ kind: 'ready' });
process.on('SIGTERM', () => {
  void worker.close().then(() => {
    connection.disconnect();
    process.exit(0);
  });
});
