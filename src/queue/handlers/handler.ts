// What a job handler receives and how it signals failures.
import type { Logger } from 'pino';
import type { JobRow } from '../../jobs/job.js';

export interface JobContext<P = Record<string, unknown>> {
  job: JobRow;
  payload: P;
  /** this attempt's number across all rounds (1 = the first attempt ever) */
  attempt: number;
  /** aborted when the attempt times out or the worker shuts down */
  signal: AbortSignal;
  log: Logger;
}

export type JobHandler = (ctx: JobContext) => Promise<unknown>;

/** An error no retry can mend: the job fails at once, whatever attempts remain. */
export class PermanentJobError extends Error {
  constructor(
    message: string,
    readonly code = 'permanent_error',
  ) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

/** An attempt that ran past its type's timeout. */
export class AttemptTimeoutError extends Error {
  readonly code = 'timeout';
  constructor(ms: number) {
    super(`attempt timed out after ${ms} ms`);
    this.name = 'AttemptTimeoutError';
  }
}
