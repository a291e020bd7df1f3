// For (b): one enrichd worker process (the bench's build, as `enrichd worker` runs it) whose test_job
// handler stamps the moment it starts and reports it over IPC. No production hook: the handlers map is ours.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobContext, JobHandler } from '../../src/queue/handlers/handler.js';
import type { StampReport } from './messages.js';

const DIST = process.env.BENCH_DIST;
if (!DIST) throw new Error('BENCH_DIST must name the compiled build to run');
// Types come from src/, code from the build: the same code the enrichd api child runs.
const load = <T>(path: string): Promise<T> => import(pathToFileURL(join(DIST, path)).href) as Promise<T>;

const { loadConfig } = await load<typeof import('../../src/config.js')>('config.js');
const { createLogger } = await load<typeof import('../../src/observability/logger.js')>('observability/logger.js');
const { openServices, startParts, stopParts } = await load<typeof import('../../src/runtime/services.js')>('runtime/services.js');
const { runTestJob } = await load<typeof import('../../src/queue/handlers/test-job.js')>('queue/handlers/test-job.js');

const now = () => performance.timeOrigin + performance.now();
let stamps: [string, number][] = [];

const testJob = runTestJob;
const trace = process.env.BENCH_DEBUG ? new Map<string, [number, number]>() : undefined;
const stamped: JobHandler = (ctx: JobContext) => {
  stamps.push([ctx.job.id, now()]);
  // Debug only: when PostgreSQL began the job's insert and its start, to split the latency.
  trace?.set(ctx.job.id, [ctx.job.created_at.getTime(), ctx.job.attempt_started_at?.getTime() ?? Number.NaN]);
  return testJob(ctx);
};
if (trace) process.on('message', (m: unknown) => {
  if (m === 'trace') process.send?.({ kind: 'trace', trace: [...trace] });
});
const handlers = new Map([['test_job', stamped]]);

const config = loadConfig(process.env, {});
const log = createLogger(config.logLevel);
const services = openServices(config, log);
// The API process holds leader duties; this one only works.
const parts = await startParts(services, { api: false, leader: false, workers: 1, handlers }, () => true);

setInterval(() => {
  if (stamps.length === 0) return;
  process.send?.({ kind: 'stamps', stamps } satisfies StampReport);
  stamps = [];
}, 20);
process.send?.({ kind: 'ready' });

process.on('SIGTERM', () => {
  void stopParts(parts)
    .then(() => services.close())
    .then(() => process.exit(0));
});
