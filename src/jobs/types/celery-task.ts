// celery_task, and the job types CELERY_ROUTES sends to Celery: their payloads are checked at
// submit by building the very message a worker would get (refusals are 400s naming the field).
import { z } from 'zod';
import { CELERY_TASK_TYPE, celeryCallOf } from '../../celery/call.js';
import { type CelerySettings, QUEUE_NAME } from '../../celery/config.js';
import { CeleryMessageRefused, buildCeleryMessage, celeryTaskId } from '../../celery/message.js';
import { AppError, type ErrorDetail } from '../../errors.js';
import { type JobTypeDefinition, jobType } from './job-type.js';
import type { JobTypeRegistry } from './registry.js';

/** celery_task's payload; args and kwargs are the client's own data, kept as given. */
export const celeryTaskPayload = z.strictObject({
  task: z.string().min(1).max(255).describe('the Celery task name, e.g. "enrichd_tasks.add"; must be allowed by CELERY_ALLOWED_TASKS'),
  args: z.array(z.unknown()).optional().describe('positional arguments'),
  kwargs: z.record(z.string(), z.unknown()).optional().describe('keyword arguments'),
  queue: z.string().regex(QUEUE_NAME, 'must be 1-200 characters of letters, digits and _ . : @ -').optional().describe('the Celery queue (default "celery")'),
});

const DESCRIPTION = 'Runs a task on an outside Celery 5 worker (CELERY_BROKER_URL): completed with {value: <return value>}, failed with the exception\'s type and message.';

/** celery_task while CELERY_BROKER_URL is unset: every submit is 422 celery_not_configured. */
export const celeryTask = jobType({
  name: CELERY_TASK_TYPE,
  description: DESCRIPTION,
  payloadSchema: celeryTaskPayload.superRefine(() => {
    // Thrown, not an issue: it is the server's configuration, not a field, that is missing.
    throw new AppError('celery_not_configured', 'Celery is not configured on this server: set CELERY_BROKER_URL to run celery_task jobs.', [
      { path: 'type', message: 'celery_task needs CELERY_BROKER_URL' },
    ]);
  }),
});

const NIL = '00000000-0000-0000-0000-000000000000';
// The longest id and origin a real attempt could carry, so a payload that passes here fits when sent.
const SAMPLE_TASK_ID = celeryTaskId(NIL, 99_999);
const SAMPLE_ORIGIN = `gen${'9'.repeat(10)}@${'h'.repeat(64)}`;

/** What a worker could not take in this payload, with paths relative to the payload. */
export function celeryPayloadRefusals(type: string, payload: Record<string, unknown>, settings: CelerySettings): ErrorDetail[] {
  const call = celeryCallOf({ id: NIL, tenantId: NIL, type, payload }, settings.routes);
  try {
    buildCeleryMessage(call, { taskId: SAMPLE_TASK_ID, priority: 1, allowedTasks: settings.allowedTasks, origin: SAMPLE_ORIGIN, expiresAt: new Date(), hardTimeLimitSeconds: 86_400 });
    return [];
  } catch (err) {
    if (!(err instanceof CeleryMessageRefused)) throw err;
    if (type === CELERY_TASK_TYPE) return err.details.map((d) => (d.path === 'message' ? { ...d, path: '' } : d));
    // A routed type's payload is the task's kwargs (after job_id and tenant_id).
    return err.details.map((d) => ({ ...d, path: d.path.startsWith('kwargs.') ? d.path.slice('kwargs.'.length) : '' }));
  }
}

function refined<S extends z.ZodType>(schema: S, type: string, settings: CelerySettings) {
  return schema.superRefine((value, ctx) => {
    for (const d of celeryPayloadRefusals(type, value as Record<string, unknown>, settings)) {
      ctx.addIssue({ code: 'custom', message: d.message, path: d.path === '' ? [] : d.path.split('.') });
    }
  });
}

const configured = new WeakSet<JobTypeDefinition>();

/**
 * With CELERY_BROKER_URL set: celery_task checks its payloads against the configuration, and
 * every CELERY_ROUTES type (an existing one keeps its schema; a new one takes any object) is
 * checked the same way. Without it, nothing changes (celery_task answers celery_not_configured).
 */
export function applyCeleryTypes(registry: JobTypeRegistry, settings: CelerySettings | undefined): void {
  if (!settings) return;
  const celery: JobTypeDefinition = { ...celeryTask, payloadSchema: refined(celeryTaskPayload, CELERY_TASK_TYPE, settings) };
  if (!configured.has(registry.get(CELERY_TASK_TYPE)!)) {
    registry.replace(celery);
    configured.add(celery);
  }
  for (const [type, route] of Object.entries(settings.routes)) {
    if (type === CELERY_TASK_TYPE) continue;
    const existing = registry.get(type);
    if (existing && configured.has(existing)) continue;
    const base = existing ?? jobType({ name: type, description: `Runs the Celery task ${route.task} (CELERY_ROUTES), called with kwargs {job_id, tenant_id, ...payload}.`, payloadSchema: z.looseObject({}) });
    const def: JobTypeDefinition = { ...base, payloadSchema: refined(base.payloadSchema, type, settings) };
    configured.add(def);
    if (existing) registry.replace(def);
    else registry.register(def);
  }
}
