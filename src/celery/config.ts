// Celery settings from the environment: broker, result backend, routes and the allowed task names.
import { z } from 'zod';
import { ConfigError, type RawEnv } from '../config-error.js';

/** One CELERY_ROUTES entry: the Celery task a job type is sent as, and its queue. */
export interface CeleryRoute {
  task: string;
  queue: string;
}

/** Celery interoperability's settings; absent from Config when CELERY_BROKER_URL is unset. */
export interface CelerySettings {
  brokerUrl: string;
  /** CELERY_RESULT_BACKEND, or the broker when unset */
  resultBackendUrl: string;
  /** job type -> Celery task (CELERY_ROUTES) */
  routes: Record<string, CeleryRoute>;
  /** CELERY_ALLOWED_TASKS: exact names and `prefix.*` patterns; by default the routes' tasks */
  allowedTasks: string[];
}

export const DEFAULT_CELERY_QUEUE = 'celery';
/** A Celery task name: dotted Python-ish identifiers (what `@app.task` names look like). */
export const TASK_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** A queue name: one Redis list key of kombu's, without its priority separator (\x06\x16). */
export const QUEUE_NAME = /^[A-Za-z0-9_.:@-]{1,200}$/;
const JOB_TYPE_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const ALLOWED_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\.\*)?$/;

const routesSchema = z.record(
  z.string().regex(JOB_TYPE_NAME, 'job type names are lower-case letters, digits and _'),
  z.strictObject({
    task: z.string().max(255).regex(TASK_NAME, 'must be a Celery task name such as "app.tasks.score"'),
    queue: z.string().regex(QUEUE_NAME, 'must be 1-200 characters of letters, digits and _ . : @ -').optional(),
  }),
);

const isSet = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

function redisUrl(variable: string, value: string): string {
  try {
    const u = new URL(value);
    if (u.protocol === 'redis:' || u.protocol === 'rediss:') return value;
  } catch {
    // reported below
  }
  throw new ConfigError(variable, `must be a Redis URL starting with redis:// or rediss:// (got "${value.slice(0, 40)}")`);
}

function parseRoutes(value: string): Record<string, CeleryRoute> {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new ConfigError('CELERY_ROUTES', 'must be JSON such as {"score_leads": {"task": "app.tasks.score", "queue": "celery"}}');
  }
  const parsed = routesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : '';
    throw new ConfigError('CELERY_ROUTES', `is invalid${where}: ${issue.message}`);
  }
  const out: Record<string, CeleryRoute> = {};
  for (const [type, r] of Object.entries(parsed.data)) out[type] = { task: r.task, queue: r.queue ?? DEFAULT_CELERY_QUEUE };
  return out;
}

function parseAllowed(value: string): string[] {
  const entries = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = entries.find((e) => !ALLOWED_ENTRY.test(e));
  if (bad !== undefined) throw new ConfigError('CELERY_ALLOWED_TASKS', `has "${bad.slice(0, 60)}", which is neither a task name nor a "prefix.*" pattern`);
  return entries;
}

/** Reads the CELERY_* variables; undefined when CELERY_BROKER_URL is unset (and nothing else may be set then). */
export function loadCelerySettings(env: RawEnv): CelerySettings | undefined {
  const broker = env.CELERY_BROKER_URL;
  if (!isSet(broker)) {
    for (const v of ['CELERY_RESULT_BACKEND', 'CELERY_ROUTES', 'CELERY_ALLOWED_TASKS']) {
      if (isSet(env[v])) throw new ConfigError(v, 'needs CELERY_BROKER_URL to be set');
    }
    return undefined;
  }
  const brokerUrl = redisUrl('CELERY_BROKER_URL', broker);
  const backend = env.CELERY_RESULT_BACKEND;
  const routes = isSet(env.CELERY_ROUTES) ? parseRoutes(env.CELERY_ROUTES) : {};
  const allowed = env.CELERY_ALLOWED_TASKS;
  const allowedTasks = isSet(allowed) ? parseAllowed(allowed) : [...new Set(Object.values(routes).map((r) => r.task))];
  for (const [type, r] of Object.entries(routes)) {
    if (!isTaskAllowed(allowedTasks, r.task)) throw new ConfigError('CELERY_ALLOWED_TASKS', `does not allow ${r.task}, which CELERY_ROUTES names for ${type}`);
  }
  return {
    brokerUrl,
    resultBackendUrl: isSet(backend) ? redisUrl('CELERY_RESULT_BACKEND', backend) : brokerUrl,
    routes,
    allowedTasks,
  };
}

/** Whether a task name is allowed: an exact name, or `prefix.*` (any name under prefix.). */
export function isTaskAllowed(allowed: readonly string[], task: string): boolean {
  return allowed.some((a) => a === task || (a.endsWith('.*') && task.startsWith(a.slice(0, -1))));
}
