// Handlers by job type name: the worker side of the type registry.
import type { JobHandler } from './handler.js';
import { runTestJob } from './test-job.js';

/** The built-in handlers; list_enrichment's arrives with the pipeline. */
export function builtinHandlers(): Map<string, JobHandler> {
  return new Map<string, JobHandler>([['test_job', runTestJob]]);
}
