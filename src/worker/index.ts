// `enrichd/worker`: add a job type in code and run enrichd (API and workers) that serves it.
import type { Logger } from 'pino';
import type { z } from 'zod';
import { type Config, type RawEnv, loadConfig } from '../config.js';
import { ensureDatabase } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import type { JobRow } from '../jobs/job.js';
import { type JobTypeDefaults, jobType } from '../jobs/types/job-type.js';
import { createJobTypeRegistry } from '../jobs/types/registry.js';
import { createLogger } from '../observability/logger.js';
import type { JobHandler } from '../queue/handlers/handler.js';
import { openServices, startParts, stopParts } from '../runtime/services.js';

export { PermanentJobError } from '../queue/handlers/handler.js';

/** What a custom handler receives for one attempt. */
export interface CustomJobContext<P> {
  /** the payload, as the type's schema parsed it at submit */
  payload: P;
  job: JobRow;
  /** this attempt's number across all rounds (1 = the first) */
  attempt: number;
  /** aborted on timeout or shutdown: stop early when it fires */
  signal: AbortSignal;
  log: Logger;
}

/** A job type defined in code: its name, payload schema, handler and defaults. */
export interface CustomJobType<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  schema: S;
  handler: (ctx: CustomJobContext<z.infer<S>>) => Promise<unknown>;
  defaults: Partial<JobTypeDefaults>;
}

/**
 * Defines a job type. The schema validates payloads at submit (400 naming the field) and
 * appears in /openapi.json; the handler's return value becomes the job's result; throw to
 * fail the attempt (retried with backoff), or throw PermanentJobError to fail the job at once.
 */
export function defineJobType<S extends z.ZodType>(def: {
  name: string;
  description?: string;
  schema: S;
  handler: (ctx: CustomJobContext<z.infer<S>>) => Promise<unknown>;
  defaults?: Partial<JobTypeDefaults>;
}): CustomJobType<S> {
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(def.name)) throw new Error(`job type name ${JSON.stringify(def.name)} must be lower-case letters, digits and _`);
  return { name: def.name, description: def.description ?? def.name, schema: def.schema, handler: def.handler, defaults: def.defaults ?? {} };
}

export interface StartOptions {
  types: CustomJobType[];
  /** serve the HTTP API too (default true) */
  api?: boolean;
  /** workers in this process (default 1); 0 for an API alone */
  workers?: number;
  /** the environment to read the configuration from (default process.env and .env) */
  env?: RawEnv;
}

/** A running enrichd: its configuration, the API's URL when it serves one, and how to stop it. */
export interface RunningEnrichd {
  config: Config;
  url: string | undefined;
  stop(): Promise<void>;
}

/**
 * Runs enrichd in this process with the built-in types and yours: creates the database if
 * missing, migrates, then serves. Every process that takes submits (API) or runs tasks
 * (workers) of your types must be started with them.
 */
export async function startEnrichd(opts: StartOptions): Promise<RunningEnrichd> {
  const config = loadConfig(opts.env ?? process.env);
  const log = createLogger(config.logLevel);
  const registry = createJobTypeRegistry();
  const handlers = new Map<string, JobHandler>();
  for (const t of opts.types) {
    registry.register(jobType({ name: t.name, description: t.description, payloadSchema: t.schema, defaults: t.defaults }));
    handlers.set(t.name, (ctx) => t.handler({ payload: ctx.payload, job: ctx.job, attempt: ctx.attempt, signal: ctx.signal, log: ctx.log }));
  }
  await ensureDatabase(config.databaseUrl);
  const services = openServices(config, log, registry);
  let parts: Awaited<ReturnType<typeof startParts>> | undefined;
  try {
    await migrate(services.pool, config.databaseAppRole);
    parts = await startParts(services, { api: opts.api ?? true, leader: true, workers: opts.workers ?? 1, handlers }, () => true);
    let url: string | undefined;
    if (parts.app) {
      await parts.app.listen({ port: config.port, host: config.host });
      const address = parts.app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    }
    const running = parts;
    return {
      config,
      url,
      async stop() {
        await stopParts(running);
        await services.close();
      },
    };
  } catch (err) {
    if (parts) await stopParts(parts).catch(() => undefined);
    await services.close();
    throw err;
  }
}
