// The handler of jobs that run on a Celery worker: sends the attempt's task and hands it to
// the process's tracker, so the worker's slot is free while Python works.
import { celeryCallOf } from '../../celery/call.js';
import type { CelerySettings } from '../../celery/config.js';
import { CeleryMessageRefused } from '../../celery/message.js';
import type { CeleryTracker } from '../../celery/tracker.js';
import { type JobContext, type JobHandler, PermanentJobError, RunsElsewhere } from './handler.js';

/** Sends a celery_task (or CELERY_ROUTES type) attempt to the broker; the tracker ends it. */
export function celeryHandler(settings: CelerySettings, tracker: CeleryTracker): JobHandler {
  return async (ctx: JobContext) => {
    const { job } = ctx;
    const call = celeryCallOf({ id: job.id, tenantId: job.tenant_id, type: job.type, payload: job.payload }, settings.routes);
    try {
      const taskId = await tracker.send(job, call);
      return new RunsElsewhere(`celery task ${taskId}`);
    } catch (err) {
      // Checked at submit; a configuration changed since (CELERY_ALLOWED_TASKS) can still refuse it.
      if (err instanceof CeleryMessageRefused) throw new PermanentJobError(err.message, 'celery_message_refused');
      throw err;
    }
  };
}

/** The Celery handlers of a configuration: celery_task and every CELERY_ROUTES type. */
export function celeryHandlers(settings: CelerySettings, tracker: CeleryTracker): [string, JobHandler][] {
  const handler = celeryHandler(settings, tracker);
  return ['celery_task', ...Object.keys(settings.routes)].map((type) => [type, handler]);
}
