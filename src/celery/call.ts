// Which Celery task a job calls, with what: a celery_task job names it in its payload; a job
// type named in CELERY_ROUTES calls its route's task with kwargs {job_id, tenant_id, ...payload}.
import { type CeleryRoute, DEFAULT_CELERY_QUEUE } from './config.js';
import type { CeleryCall } from './message.js';

export const CELERY_TASK_TYPE = 'celery_task';

/** A celery_task payload as its schema checked it. */
export interface CeleryTaskPayload {
  task: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  queue?: string;
}

/**
 * The call a job makes. A routed type's job_id and tenant_id are enrichd's, whatever the
 * payload says (a client cannot pass itself off as another tenant to the Python side).
 */
export function celeryCallOf(job: { id: string; tenantId: string; type: string; payload: Record<string, unknown> }, routes: Record<string, CeleryRoute>): CeleryCall {
  if (job.type === CELERY_TASK_TYPE) {
    const p = job.payload as unknown as CeleryTaskPayload;
    return { task: p.task, args: p.args ?? [], kwargs: p.kwargs ?? {}, queue: p.queue ?? DEFAULT_CELERY_QUEUE };
  }
  const route = routes[job.type];
  if (!route) throw new Error(`job type ${job.type} has no Celery route`);
  const { job_id: _j, tenant_id: _t, ...rest } = job.payload;
  return { task: route.task, args: [], kwargs: { job_id: job.id, tenant_id: job.tenantId, ...rest }, queue: route.queue };
}

/** Whether jobs of this type go to Celery under these routes. */
export function isCeleryType(type: string, routes: Record<string, CeleryRoute>): boolean {
  return type === CELERY_TASK_TYPE || Object.hasOwn(routes, type);
}
