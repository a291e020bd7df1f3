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

/**
 * Returned by a handler whose job goes on in chunk tasks (a list job): the attempt's task is
 * done, the job stays running, and its last chunk ends it.
 */
export class RunsInChunks {
  constructor(readonly chunks: number) {}
}

/**
 * Returned by a handler that handed its attempt to an outside runner (a Celery worker): the
 * task's slot is free, the job stays running, and whoever follows the runner ends the attempt.
 */
export class RunsElsewhere {
  constructor(readonly where: string) {}
}

/** Counters of a job over items (emails, leads, domains). */
export interface ItemProgress {
  total: number;
  processed: number;
  succeeded: number;
  failed: number;
}

/** Returned by a handler of a job over items: its result and its item counters. */
export class ItemsOutcome {
  constructor(
    readonly result: Record<string, unknown>,
    readonly progress: ItemProgress,
  ) {}
}
