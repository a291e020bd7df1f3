// Builds the Fastify app (never listens): plugins, auth, routes, OpenAPI, errors.
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { AppError } from '../errors.js';
import type { JobTypeRegistry } from '../jobs/types/registry.js';
import { Metrics } from '../observability/metrics.js';
import type { Dispatcher } from '../queue/dispatch.js';
import { type JobQueue, createQueue } from '../queue/queue.js';
import type { ProcessRunner } from '../queue/process-runner.js';
import type { EventPublisher } from '../events/stream.js';
import type { Submitter } from '../queue/submitter.js';
import { type AuthContext, Authenticator } from './auth.js';
import { registerErrorHandling, toAppError } from './error-handler.js';
import { registerJsonBodyParser } from './json-body.js';
import { exportRoutes } from './routes/exports.js';
import { healthRoutes } from './routes/health.js';
import { jobTypeRoutes, payloadComponentName, payloadJsonSchema } from './routes/job-types.js';
import { stepTypeRoutes } from './routes/step-types.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { jobRoutes } from './routes/jobs.js';
import { listRoutes } from './routes/lists.js';
import { planRoutes } from './routes/plans.js';
import { jobActionRoutes } from './routes/job-actions.js';
import { jobListRoutes } from './routes/jobs-list.js';
import { jobMetricsRoutes } from './routes/job-metrics.js';
import { type RenderMetrics, instrumentHttp, metricsRoutes } from './routes/metrics.js';
import { processRoutes } from './routes/process.js';
import { jobEventRoutes, tenantEventRoutes } from './routes/events.js';
import { webhookRoutes } from './routes/webhooks.js';
import { runnerWebhookRoutes } from './routes/runner-webhook.js';
import { providerWebhookRoutes } from './routes/provider-webhooks.js';
import { usageRoutes } from './routes/usage.js';
import { auditRoutes } from './routes/audit.js';
import { privacyRoutes } from './routes/privacy.js';
import { retentionRoutes } from './routes/retention.js';
import { SubjectMarks } from '../governance/subject-marks.js';
import { registerAuditHooks } from '../audit/hook.js';
import { AuditWriter } from '../audit/writer.js';
import { zodValidatorCompiler } from './validation.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext;
  }
}

export interface AppDeps {
  config: Config;
  pool: Pool;
  /** a fail-fast connection for readiness probes */
  redis: Redis;
  registry: JobTypeRegistry;
  submitter: Submitter;
  dispatcher: Dispatcher;
  /** the jobs' queue (cancel removes tasks, a new priority reaches them); one on `redis` when absent */
  queue?: JobQueue;
  log: Logger;
  accepting?: () => boolean;
  /** runs queued work for the process endpoint (only when CRON_SECRET is set) */
  processRunner?: ProcessRunner;
  /** live events: what the API itself changes (cancel, retry) is announced too */
  events?: EventPublisher;
  /** the process's metrics (HTTP durations land here); a registry of the app's own when absent */
  metrics?: Metrics;
  /** what GET /metrics renders; the metrics above unless a supervisor merges its children's */
  renderMetrics?: RenderMetrics;
  /** where audit records go; one on `pool` when absent */
  auditWriter?: AuditWriter;
}

export const BODY_LIMIT = 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds the HTTP app; the caller listens (or injects, in tests) and closes it. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  if (!config.jwt.secret) throw new Error('JWT_SECRET is required to serve the API');
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Fastify's own 503 body is not the contract's shape: the onRequest hook below answers instead.
    return503OnClosing: false,
    // Errors raised before routing (a malformed %-escape in the URL) skip the error handler.
    frameworkErrors: (err, _request, reply) => {
      const appError = toAppError(err);
      void (reply as FastifyReply).status(appError.status).send(appError.toBody());
    },
  });
  app.setValidatorCompiler(zodValidatorCompiler);
  // Responses are plain JSON.stringify: the response schemas document, they do not re-validate.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerJsonBodyParser(app);
  registerErrorHandling(app);
  const metrics = deps.metrics ?? new Metrics();
  instrumentHttp(app, metrics);
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (closing) {
      const err = new AppError('unavailable', 'The server is shutting down; retry on another instance.');
      return reply.status(503).header('connection', 'close').send(err.toBody());
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'enrichd',
        version: '0.1.0',
        description:
          'Dispatches and runs data-enrichment jobs for many tenants. Every error is {error: {code, message, details}}. ' +
          `Job types: ${deps.registry.names().join(', ')} (payload schemas under components.schemas, and GET /v1/enrichment/job-types).`,
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          cronBearer: { type: 'http', scheme: 'bearer', description: 'CRON_SECRET (the process endpoint only)' },
        },
        // Each registered type's payload, so clients can validate before they submit.
        schemas: Object.fromEntries(deps.registry.all().map((d) => [payloadComponentName(d.name), payloadJsonSchema(d.payloadSchema)])),
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const authenticator = new Authenticator({ ...config.jwt, secret: config.jwt.secret }, deps.pool);
  app.decorateRequest('auth', null as unknown as AuthContext);
  // Every state-changing call of a tenant token goes to the audit trail, written in batches.
  const auditWriter = deps.auditWriter ?? new AuditWriter({ pool: deps.pool, log: deps.log });
  registerAuditHooks(app, auditWriter);
  app.addHook('onClose', async () => auditWriter.drain());

  const createDeps = {
    pool: deps.pool,
    appRole: config.databaseAppRole,
    registry: deps.registry,
    submitter: deps.submitter,
    webhookAllowPrivate: config.webhookAllowPrivate,
  };
  // A Queue object on the shared connection opens no connection of its own.
  const queue = deps.queue ?? createQueue(deps.redis, config.queuePrefix);
  if (!deps.queue) {
    queue.on('error', () => undefined); // connection state is logged by the Redis watcher
    app.addHook('onClose', async () => queue.close().catch(() => undefined));
  }
  const taskDeps = { queue, redis: deps.redis, webhookAllowPrivate: config.webhookAllowPrivate };
  const providerWebhooks = { pool: deps.pool, appRole: config.databaseAppRole, redis: deps.redis, prefix: config.queuePrefix, secrets: config.providerWebhookSecrets, queue };
  const eventOpts = { pool: deps.pool, appRole: config.databaseAppRole, redisUrl: config.redisUrl, prefix: config.queuePrefix, log: deps.log };
  const configuredProviders = [...Object.keys(config.providers.builtIn), ...config.providers.generic.map((g) => g.definition.name)];
  for (const [prefix, hidden] of [['/v1/enrichment', false], ['/api/enrichment', true]] as const) {
    await app.register(
      async (scope) => {
        scope.addHook('onRequest', async (request) => {
          // Provider callbacks on the runners' path (?provider=) are signed by HMAC, not a JWT.
          if (isProviderCallback(request.routeOptions.url, request.query)) return;
          request.auth = await authenticator.authenticate(request.headers.authorization);
        });
        await jobRoutes(scope, { deps: createDeps, base: prefix, hidden });
        await jobActionRoutes(scope, { pool: deps.pool, appRole: config.databaseAppRole, dispatcher: deps.dispatcher, ...taskDeps, hidden, events: deps.events });
        await jobListRoutes(scope, { pool: deps.pool, appRole: config.databaseAppRole, hidden });
        await jobMetricsRoutes(scope, { pool: deps.pool, appRole: config.databaseAppRole, healthCheckIntervalMs: config.healthCheckIntervalMs, hidden });
        await jobTypeRoutes(scope, { registry: deps.registry, hidden });
        await stepTypeRoutes(scope, { configuredProviders, hidden });
        await jobEventRoutes(scope, { ...eventOpts, hidden });
        await planRoutes(scope, { pool: deps.pool, appRole: config.databaseAppRole, base: prefix, hidden });
        await runnerWebhookRoutes(scope, { pool: deps.pool, appRole: config.databaseAppRole, hidden, events: deps.events, providerWebhooks });
      },
      { prefix },
    );
  }
  // The process endpoint authenticates with CRON_SECRET, not a JWT: outside the scopes above.
  const queueCounts = async () => deps.processRunner?.queueCounts() ?? {};
  for (const [prefix, hidden] of [['/v1/enrichment', false], ['/api/enrichment', true]] as const) {
    await app.register(processRoutes, { prefix, hidden, jobsAlias: hidden, cronSecret: config.cronSecret, runner: deps.processRunner, queueCounts });
  }
  // Resources outside /v1/enrichment: lists, exports.
  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (request) => {
        request.auth = await authenticator.authenticate(request.headers.authorization);
      });
      await exportRoutes(scope, { deps: createDeps });
      await tenantEventRoutes(scope, { ...eventOpts, hidden: false });
      await webhookRoutes(scope, { pool: deps.pool, appRole: config.databaseAppRole, allowPrivate: config.webhookAllowPrivate });
      await scope.register(listRoutes, { pool: deps.pool, appRole: config.databaseAppRole });
      await usageRoutes(scope, { pool: deps.pool, appRole: config.databaseAppRole });
      await auditRoutes(scope, { pool: deps.pool, appRole: config.databaseAppRole });
      await privacyRoutes(scope, { pool: deps.pool, appRole: config.databaseAppRole, redis: deps.redis, prefix: config.queuePrefix, marks: new SubjectMarks(deps.pool, config.privacyHashSecret) });
      await retentionRoutes(scope, { pool: deps.pool, appRole: config.databaseAppRole, retention: config.retention });
    },
    { prefix: '/v1' },
  );
  // Provider callbacks authenticate by HMAC over the raw body: a scope with its own body parser.
  await app.register(async (scope) => providerWebhookRoutes(scope, providerWebhooks), { prefix: '/v1' });
  await app.register(healthRoutes, { pool: deps.pool, redis: deps.redis, accepting: deps.accepting ?? (() => true) });
  await app.register(metricsRoutes, { render: deps.renderMetrics ?? (() => metrics.render()) });
  // The dashboard at `/` (only the built files get routes: every API path keeps precedence).
  await app.register(dashboardRoutes);
  return app;
}

/** Whether a request on the runners' webhook path is a provider callback (`?provider=`). */
function isProviderCallback(url: string | undefined, query: unknown): boolean {
  return url !== undefined && url.endsWith('/webhook') && typeof (query as { provider?: unknown } | null)?.provider === 'string';
}
