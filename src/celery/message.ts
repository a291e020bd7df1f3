// Builds every Celery message enrichd sends: protocol 2 in kombu's Redis transport envelope
// (celery/app/amqp.py as_task_v2, kombu/transport/redis.py _put), and refuses what would
// crash or confuse a worker.
import { randomUUID } from 'node:crypto';
import type { ErrorDetail } from '../errors.js';
import { QUEUE_NAME, TASK_NAME, isTaskAllowed } from './config.js';
import { jsonProblem } from './json-check.js';
import { shortRepr } from './python-repr.js';

/** The largest message (the whole envelope, UTF-8 bytes) enrichd puts on a queue. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** kombu's Redis priority emulation: one list per step, `<queue>\x06\x16<step>`; a lower step is served first. */
export const PRIORITY_SEPARATOR = '\x06\x16';
export const PRIORITY_STEPS = [0, 3, 6, 9] as const;

/**
 * enrichd priority 1..5 (1 highest) -> Celery priority. kombu's BRPOP reads the lists in
 * step order (0 first), so 1 goes to the plain queue list, ahead of everything else; four
 * lists for five levels puts 4 and 5 together at the back.
 */
const CELERY_PRIORITY: Record<number, number> = { 1: 0, 2: 3, 3: 6, 4: 9, 5: 9 };

/** The Celery priority of an enrichd priority (1..5, clamped). */
export function celeryPriority(priority: number): number {
  return CELERY_PRIORITY[Math.min(5, Math.max(1, Math.round(priority)))]!;
}

/** The Redis list a message of this Celery priority waits in (kombu's _q_for_pri). */
export function priorityListKey(queue: string, celeryPri: number): string {
  let step: number = PRIORITY_STEPS[0];
  for (const s of PRIORITY_STEPS) if (s <= celeryPri) step = s;
  return step === 0 ? queue : `${queue}${PRIORITY_SEPARATOR}${step}`;
}

/** Every Redis list of a queue, in the order a worker reads them. */
export function queueListKeys(queue: string): string[] {
  return PRIORITY_STEPS.map((s) => priorityListKey(queue, s));
}

/** The Celery task id of one attempt of a job: a resend gets a new id, so an old attempt's result is never taken for the current one's. */
export function celeryTaskId(jobId: string, attempt: number): string {
  return `${TASK_ID_PREFIX}${jobId}-${attempt}`;
}

/** Every task id enrichd makes starts so (its result channels match `celery-task-meta-enrichd-*`). */
export const TASK_ID_PREFIX = 'enrichd-';

/** The job and attempt a task id of ours names; null for anyone else's. */
export function parseCeleryTaskId(taskId: string): { jobId: string; attempt: number } | null {
  const m = /^enrichd-([0-9a-f-]{36})-(\d+)$/.exec(taskId);
  return m ? { jobId: m[1]!, attempt: Number(m[2]) } : null;
}

/** What to call: a task by name, with its arguments, on a queue. */
export interface CeleryCall {
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  queue: string;
}

export interface MessageOptions {
  taskId: string;
  /** enrichd priority 1..5 */
  priority: number;
  /** CELERY_ALLOWED_TASKS */
  allowedTasks: readonly string[];
  /** who sends (Celery's `origin` header: host and pid) */
  origin: string;
  /** the worker discards the task (state REVOKED) when it reaches it later than this */
  expiresAt?: Date | null;
  /** hard time limit in seconds (prefork pools kill the task past it) */
  hardTimeLimitSeconds?: number | null;
  /** default: a fresh UUID */
  deliveryTag?: string;
}

/** A message ready to push: the list it goes to and the exact text pushed (LREM needs it to take the message back). */
export interface CeleryMessage {
  taskId: string;
  queue: string;
  listKey: string;
  celeryPriority: number;
  deliveryTag: string;
  /** the envelope as pushed */
  raw: string;
  bytes: number;
}

/** A message enrichd will not send; details name the fields (task, args.N, kwargs.key, message). */
export class CeleryMessageRefused extends Error {
  constructor(readonly details: ErrorDetail[]) {
    super(`celery message refused: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`);
    this.name = 'CeleryMessageRefused';
  }
}

// Celery's own client gives every message of a process the same reply_to (its oid).
const REPLY_TO = randomUUID();

const iso = (d: Date): string => d.toISOString().replace('Z', '+00:00');

/** Builds the message for one attempt of a call, or throws CeleryMessageRefused. */
export function buildCeleryMessage(call: CeleryCall, opts: MessageOptions): CeleryMessage {
  const problems: ErrorDetail[] = [];
  if (typeof call.task !== 'string' || call.task.length > 255 || !TASK_NAME.test(call.task)) {
    problems.push({ path: 'task', message: 'must be a Celery task name such as "app.tasks.score"' });
  } else if (!isTaskAllowed(opts.allowedTasks, call.task)) {
    problems.push({ path: 'task', message: `is not allowed (CELERY_ALLOWED_TASKS: ${opts.allowedTasks.length > 0 ? opts.allowedTasks.join(', ') : 'none set'})` });
  }
  if (!QUEUE_NAME.test(call.queue)) problems.push({ path: 'queue', message: 'must be 1-200 characters of letters, digits and _ . : @ -' });
  const argsProblem = Array.isArray(call.args) ? jsonProblem(call.args, 'args') : { path: 'args', message: 'must be an array' };
  if (argsProblem) problems.push(argsProblem);
  const kwargsOk = call.kwargs !== null && typeof call.kwargs === 'object' && !Array.isArray(call.kwargs);
  const kwargsProblem = kwargsOk ? jsonProblem(call.kwargs, 'kwargs') : { path: 'kwargs', message: 'must be an object' };
  if (kwargsProblem) problems.push(kwargsProblem);
  if (problems.length > 0) throw new CeleryMessageRefused(problems);

  const pri = celeryPriority(opts.priority);
  const deliveryTag = opts.deliveryTag ?? randomUUID();
  const body = JSON.stringify([call.args, call.kwargs, { callbacks: null, errbacks: null, chain: null, chord: null }]);
  const envelope = {
    body: Buffer.from(body, 'utf8').toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers: {
      lang: 'py',
      task: call.task,
      id: opts.taskId,
      shadow: null,
      // Delays are enrichd's (the message is sent when due), never a Celery eta.
      eta: null,
      expires: opts.expiresAt ? iso(opts.expiresAt) : null,
      group: null,
      group_index: null,
      // Retries are enrichd's too: every attempt is a fresh task.
      retries: 0,
      timelimit: [null, opts.hardTimeLimitSeconds ?? null],
      root_id: opts.taskId,
      parent_id: null,
      argsrepr: shortRepr(call.args),
      kwargsrepr: shortRepr(call.kwargs),
      origin: opts.origin,
      ignore_result: false,
    },
    properties: {
      correlation_id: opts.taskId,
      reply_to: REPLY_TO,
      delivery_mode: 2,
      delivery_info: { exchange: '', routing_key: call.queue },
      priority: pri,
      body_encoding: 'base64',
      delivery_tag: deliveryTag,
    },
  };
  const raw = JSON.stringify(envelope);
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) {
    throw new CeleryMessageRefused([{ path: 'message', message: `is ${bytes} bytes as a Celery message; the limit is ${MAX_MESSAGE_BYTES} (256 KB)` }]);
  }
  return { taskId: opts.taskId, queue: call.queue, listKey: priorityListKey(call.queue, pri), celeryPriority: pri, deliveryTag, raw, bytes };
}
