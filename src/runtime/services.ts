// Opens what a process needs (pool, Redis, queue) and runs its parts: API, leader duties, workers.
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { buildApp } from '../api/app.js';
import type { Config } from '../config.js';
import { type Pool, createPool } from '../db/pool.js';
import { createJobTypeRegistry, type JobTypeRegistry } from '../jobs/types/registry.js';
import { applyCeleryTypes } from '../jobs/types/celery-task.js';
import { CeleryTracker } from '../celery/tracker.js';
import { PgConnectionWatch } from '../observability/connection-watch.js';
import { metricSources } from '../observability/metric-sources.js';
import { Metrics } from '../observability/metrics.js';
import { EventPublisher } from '../events/stream.js';
import type { RenderMetrics } from '../api/routes/metrics.js';
import { Dispatcher } from '../queue/dispatch.js';
import type { JobHandler } from '../queue/handlers/handler.js';
import { builtinHandlers } from '../queue/handlers/index.js';
import { LeaderLoop } from '../queue/leader-loop.js';
import { type JobQueue, createQueue } from '../queue/queue.js';
import { createRedis } from '../queue/redis.js';
import { Submitter } from '../queue/submitter.js';
import { WorkerRuntime } from '../queue/worker-runtime.js';
import type { StepRunner } from '../enrich/plan.js';
import { ChunkRunner } from '../queue/chunks/runner.js';
import { ChunkScheduler } from '../queue/chunks/scheduler.js';
import { Transitions } from '../queue/transitions.js';
import { ProcessRunner } from '../queue/process-runner.js';
import { WebhookDeliveryLoop } from '../events/webhooks/delivery-loop.js';
import { webhookProgressHook } from '../events/webhooks/progress.js';
import { createLookupService } from '../providers/lookup-wiring.js';

export interface Services {
  config: Config;
  log: Logger;
  pool: Pool;
  redis: Redis;
  queue: JobQueue;
  registry: JobTypeRegistry;
  dispatcher: Dispatcher;
  submitter: Submitter;
  /** whether PostgreSQL answers, as the pool and the leader loop see it */
  pgWatch: PgConnectionWatch;
  /** this process's metrics registry (one per Services, so tests can run several systems) */
  metrics: Metrics;
  /** live events, appended to the tenants' Redis streams */
  events: EventPublisher;
  close(): Promise<void>;
}

/** Opens the pool, the fail-fast Redis connection and the queue. */
export function openServices(config: Config, log: Logger, registry = createJobTypeRegistry()): Services {
  applyCeleryTypes(registry, config.celery);
  const pgWatch = new PgConnectionWatch(log);
  const pool = createPool(config.databaseUrl, config.databasePoolSize, log, pgWatch);
  const redis = createRedis(config.redisUrl, 'queue', log);
  const queue = createQueue(redis, config.queuePrefix);
  queue.on('error', () => undefined); // connection state is logged by the Redis watcher
  const dispatcher = new Dispatcher(queue, redis, pool, log, config.tenantMaxActive);
  const metrics = new Metrics();
  metrics.knownTypes(registry.names());
  metrics.setSources(metricSources(queue, pool));
  // Live events on a connection of their own: a pipeline on the queue's connection copies
  // every script BullMQ defined on it (ioredis Pipeline's constructor), per flush, which was
  // 2-3 % of a busy API's and worker's CPU. Its outages are the queue connection's, logged there.
  const eventsRedis = createRedis(config.redisUrl, 'events');
  eventsRedis.on('error', () => undefined);
  const events = new EventPublisher(eventsRedis, config.queuePrefix, log);
  const submitter = new Submitter({ pool, appRole: config.databaseAppRole, dispatcher, log, maxBatch: config.submitBatchMax, metrics, events });
  return {
    config,
    log,
    pool,
    redis,
    queue,
    registry,
    dispatcher,
    submitter,
    pgWatch,
    metrics,
    events,
    async close() {
      await dispatcher.flush().catch(() => undefined);
      await queue.close().catch(() => undefined);
      redis.disconnect();
      eventsRedis.disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}

export interface RunningParts {
  app?: FastifyInstance;
  leader?: LeaderLoop;
  /** sends webhook deliveries (with the leader, under a lock of its own) */
  webhooks?: WebhookDeliveryLoop;
  workers: WorkerRuntime[];
  /** follows the Celery tasks this process sent (with CELERY_BROKER_URL, where tasks run) */
  celery?: CeleryTracker;
}

export interface RunOptions {
  api: boolean;
  leader: boolean;
  workers: number;
  /** handlers that replace built-in ones of the same type (tests, benchmarks, custom types) */
  handlers?: Map<string, JobHandler>;
  /** replaces how list jobs run each step over an entry (tests that need a step to raise) */
  runStep?: StepRunner;
  /** what the API's /metrics renders; this process's registry unless a supervisor merges its children's */
  renderMetrics?: RenderMetrics;
}

/** Starts the asked-for parts on open services; the caller stops them with stopParts. */
export async function startParts(s: Services, opts: RunOptions, accepting: () => boolean): Promise<RunningParts> {
  const parts: RunningParts = { workers: [] };
  const workerLog = s.log.child({ part: 'worker' });
  const lookups = createLookupService({ config: s.config, pool: s.pool, redis: s.redis, log: workerLog });
  const chunkScheduler = new ChunkScheduler({ pool: s.pool, appRole: s.config.databaseAppRole, queue: s.queue, window: s.config.listChunkWindow });
  const celery = s.config.celery;
  // One batcher for the process: the Celery tracker's finishes and the workers' starts share transactions.
  const transitions = new Transitions(s.pool);
  if (celery && (opts.workers > 0 || (opts.api && s.config.cronSecret !== undefined))) {
    parts.celery = new CeleryTracker({
      settings: celery,
      pool: s.pool,
      queue: s.queue,
      registry: s.registry,
      retry: s.config.retry,
      sweepIntervalMs: s.config.pollIntervalMs,
      shutdownGraceMs: s.config.gracefulShutdownTimeoutMs,
      log: workerLog,
      events: s.events,
      metrics: s.metrics,
      fairness: s.dispatcher.fairness,
      transitions,
    });
    await parts.celery.start();
  }
  const handlers = new Map([
    ...builtinHandlers({
      config: s.config, pool: s.pool, queue: s.queue, redis: s.redis, chunks: chunkScheduler, log: workerLog, lookups,
      celery: celery && parts.celery ? { settings: celery, tracker: parts.celery } : undefined,
    }),
    ...(opts.handlers ?? []),
  ]);
  // The process endpoint (CRON_SECRET set) runs tasks in the API process, chunks included.
  const processing = opts.api && s.config.cronSecret !== undefined;
  const chunks = opts.workers > 0 || processing
    ? new ChunkRunner({
        pool: s.pool,
        appRole: s.config.databaseAppRole,
        queue: s.queue,
        scheduler: chunkScheduler,
        transitions: new Transitions(s.pool),
        chunkAttempts: s.config.chunkAttempts,
        backoff: s.config.retry,
        runStep: opts.runStep,
        lookups,
        log: workerLog,
        metrics: s.metrics,
        events: s.events,
        onProgress: webhookProgressHook(s.pool, workerLog),
      })
    : undefined;
  if (opts.leader) {
    parts.leader = new LeaderLoop({
      pool: s.pool,
      redis: s.redis,
      dispatcher: s.dispatcher,
      queue: s.queue,
      prefix: s.config.queuePrefix,
      pollIntervalMs: s.config.pollIntervalMs,
      healthCheckIntervalMs: s.config.healthCheckIntervalMs,
      reconcileIntervalMs: s.config.reconcileIntervalMs,
      stalledIntervalMs: s.config.stalledIntervalMs,
      log: s.log.child({ part: 'leader' }),
      chunks: chunkScheduler,
      pgWatch: s.pgWatch,
      retention: s.config.retention,
    });
    parts.leader.start();
    parts.webhooks = new WebhookDeliveryLoop({
      pool: s.pool,
      log: s.log.child({ part: 'webhooks' }),
      pollIntervalMs: s.config.pollIntervalMs,
      retryBaseDelayMs: s.config.retry.baseDelayMs,
      allowPrivate: s.config.webhookAllowPrivate,
    });
    parts.webhooks.start();
  }
  for (let i = 0; i < opts.workers; i++) {
    const w = new WorkerRuntime({
      config: s.config,
      pool: s.pool,
      registry: s.registry,
      handlers,
      chunks,
      log: workerLog,
      metrics: s.metrics,
      events: s.events,
      fairness: s.dispatcher.fairness,
      transitions,
    });
    await w.start();
    parts.workers.push(w);
  }
  if (opts.api) {
    parts.app = await buildApp({
      config: s.config,
      pool: s.pool,
      redis: s.redis,
      registry: s.registry,
      submitter: s.submitter,
      dispatcher: s.dispatcher,
      queue: s.queue,
      log: s.log,
      accepting,
      metrics: s.metrics,
      events: s.events,
      renderMetrics: opts.renderMetrics,
      processRunner: processing
        ? new ProcessRunner({
            config: s.config,
            pool: s.pool,
            queue: s.queue,
            runtime: new WorkerRuntime({ config: s.config, pool: s.pool, registry: s.registry, handlers, chunks, log: s.log.child({ part: 'process-run' }), metrics: s.metrics, events: s.events, fairness: s.dispatcher.fairness }),
            log: s.log.child({ part: 'process-run' }),
          })
        : undefined,
    });
  }
  return parts;
}

/** Stops parts in the safe order: stop accepting, finish work, then leader duties. */
export async function stopParts(parts: RunningParts): Promise<void> {
  await parts.app?.close();
  await Promise.all(parts.workers.map((w) => w.close()));
  await parts.celery?.close();
  await parts.leader?.stop();
  await parts.webhooks?.stop();
}
