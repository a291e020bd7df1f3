// Handlers by job type name: the worker side of the type registry.
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Pool } from '../../db/pool.js';
import type { JobQueue } from '../queue.js';
import type { JobHandler } from './handler.js';
import { runTestJob } from './test-job.js';

/** What the built-in handlers need from their process. */
export interface HandlerDeps {
  config: Config;
  pool: Pool;
  /** the queue that chunk tasks of list jobs are added to */
  queue: JobQueue;
  log: Logger;
}

/** The built-in handlers. */
export function builtinHandlers(_deps: HandlerDeps): Map<string, JobHandler> {
  return new Map<string, JobHandler>([['test_job', runTestJob]]);
}
