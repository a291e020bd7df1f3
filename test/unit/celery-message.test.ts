// The one function that builds every Celery message: exact fields, the body's round trip, priorities, each refusal.
import { describe, expect, it } from 'vitest';
import { loadCelerySettings, isTaskAllowed } from '../../src/celery/config.js';
import { pidboxChannel, revokeMessage } from '../../src/celery/control.js';
import { CeleryMessageRefused, MAX_MESSAGE_BYTES, buildCeleryMessage, celeryPriority, celeryTaskId, parseCeleryTaskId, priorityListKey, queueListKeys } from '../../src/celery/message.js';
import { readTaskMeta } from '../../src/celery/result.js';
import { ConfigError } from '../../src/config.js';

const JOB = '3f1c9a52-8d0e-4b7a-9c61-2b5e8f4d7a10';
const opts = { taskId: celeryTaskId(JOB, 2), priority: 3, allowedTasks: ['enrichd_tasks.*'], origin: 'gen42@host', deliveryTag: 'tag-1' };

function refusal(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof CeleryMessageRefused) return err.details;
    throw err;
  }
  throw new Error('not refused');
}

describe('buildCeleryMessage', () => {
  it('builds a protocol 2 message in kombu\'s Redis envelope, field for field', () => {
    const expires = new Date('2030-01-02T03:04:05.678Z');
    const m = buildCeleryMessage({ task: 'enrichd_tasks.add', args: [2, 3], kwargs: { x: 'it\'s' }, queue: 'celery' }, { ...opts, expiresAt: expires, hardTimeLimitSeconds: 300 });
    const env = JSON.parse(m.raw);
    expect(Object.keys(env)).toEqual(['body', 'content-encoding', 'content-type', 'headers', 'properties']);
    expect(env['content-encoding']).toBe('utf-8');
    expect(env['content-type']).toBe('application/json');
    expect(env.headers).toEqual({
      lang: 'py', task: 'enrichd_tasks.add', id: `enrichd-${JOB}-2`, shadow: null, eta: null, expires: '2030-01-02T03:04:05.678+00:00',
      group: null, group_index: null, retries: 0, timelimit: [null, 300], root_id: `enrichd-${JOB}-2`, parent_id: null,
      argsrepr: '[2, 3]', kwargsrepr: `{'x': "it's"}`, origin: 'gen42@host', ignore_result: false,
    });
    expect(env.properties).toEqual({
      correlation_id: `enrichd-${JOB}-2`, reply_to: expect.any(String), delivery_mode: 2, delivery_info: { exchange: '', routing_key: 'celery' },
      priority: 6, body_encoding: 'base64', delivery_tag: 'tag-1',
    });
    expect(m).toMatchObject({ taskId: `enrichd-${JOB}-2`, queue: 'celery', listKey: 'celery\x06\x166', celeryPriority: 6, deliveryTag: 'tag-1', bytes: Buffer.byteLength(m.raw) });
  });

  it('encodes the body as base64 of UTF-8 JSON [args, kwargs, embed] that decodes to the same values', () => {
    const args = [1, 'é ☃ 😀', null, true, { nested: [1.5, -2] }];
    const kwargs = { name: 'Zoë', list: [] };
    const m = buildCeleryMessage({ task: 'enrichd_tasks.add', args, kwargs, queue: 'q' }, opts);
    const body = JSON.parse(Buffer.from(JSON.parse(m.raw).body as string, 'base64').toString('utf8'));
    expect(body).toEqual([args, kwargs, { callbacks: null, errbacks: null, chain: null, chord: null }]);
  });

  it('gives every message a fresh delivery tag unless told', () => {
    const call = { task: 'enrichd_tasks.add', args: [], kwargs: {}, queue: 'q' };
    const a = buildCeleryMessage(call, { ...opts, deliveryTag: undefined });
    const b = buildCeleryMessage(call, { ...opts, deliveryTag: undefined });
    expect(a.deliveryTag).not.toBe(b.deliveryTag);
    expect(a.deliveryTag).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('maps priority 1..5 (1 highest) to kombu\'s lists, served lowest step first', () => {
    expect([1, 2, 3, 4, 5].map(celeryPriority)).toEqual([0, 3, 6, 9, 9]);
    expect([1, 2, 3, 4].map((p) => priorityListKey('celery', celeryPriority(p)))).toEqual(['celery', 'celery\x06\x163', 'celery\x06\x166', 'celery\x06\x169']);
    expect(queueListKeys('q')).toEqual(['q', 'q\x06\x163', 'q\x06\x166', 'q\x06\x169']);
  });

  it('refuses a task outside CELERY_ALLOWED_TASKS, and a malformed name', () => {
    expect(refusal(() => buildCeleryMessage({ task: 'os.system', args: [], kwargs: {}, queue: 'q' }, opts))).toEqual([{ path: 'task', message: expect.stringMatching(/not allowed/) }]);
    expect(refusal(() => buildCeleryMessage({ task: 'a b', args: [], kwargs: {}, queue: 'q' }, opts))[0]!.path).toBe('task');
  });

  it.each([
    ['NaN', [Number.NaN], 'args.0'],
    ['Infinity', [1, [Number.POSITIVE_INFINITY]], 'args.1.0'],
    ['undefined in an array', [undefined], 'args.0'],
    ['a bigint', [1n], 'args.0'],
    ['a Date', [new Date()], 'args.0'],
    ['a function', [() => 1], 'args.0'],
    ['a lone surrogate', ['\ud800'], 'args.0'],
  ])('refuses arguments that are not JSON: %s', (_label, args, path) => {
    expect(refusal(() => buildCeleryMessage({ task: 'enrichd_tasks.add', args: args as unknown[], kwargs: {}, queue: 'q' }, opts))[0]!.path).toBe(path);
  });

  it('refuses kwargs that are not JSON, and a cycle', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(refusal(() => buildCeleryMessage({ task: 'enrichd_tasks.add', args: [], kwargs: { a: { b: undefined } }, queue: 'q' }, opts))[0]!.path).toBe('kwargs.a.b');
    expect(refusal(() => buildCeleryMessage({ task: 'enrichd_tasks.add', args: [], kwargs: cyclic, queue: 'q' }, opts))[0]!.message).toMatch(/cycle/);
  });

  it('refuses a message over 256 KB and takes one just under', () => {
    const call = (n: number) => ({ task: 'enrichd_tasks.add', args: ['x'.repeat(n)], kwargs: {}, queue: 'q' });
    expect(refusal(() => buildCeleryMessage(call(200_000), opts))).toEqual([{ path: 'message', message: expect.stringMatching(/256 KB/) }]);
    const fits = buildCeleryMessage(call(150_000), opts);
    expect(fits.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });

  it('refuses a queue name kombu would split', () => {
    expect(refusal(() => buildCeleryMessage({ task: 'enrichd_tasks.add', args: [], kwargs: {}, queue: 'q\x06\x169' }, opts))[0]!.path).toBe('queue');
  });

  it('makes a new task id per attempt and reads it back', () => {
    expect(celeryTaskId(JOB, 1)).not.toBe(celeryTaskId(JOB, 2));
    expect(parseCeleryTaskId(celeryTaskId(JOB, 7))).toEqual({ jobId: JOB, attempt: 7 });
    expect(parseCeleryTaskId('0a5b...')).toBeNull();
  });
});

describe('revoke broadcast', () => {
  it('is published on the broker database\'s pidbox channel as control.revoke sends it', () => {
    expect(pidboxChannel('redis://127.0.0.1:6379/11')).toBe('/11.celery.pidbox');
    expect(pidboxChannel('redis://127.0.0.1:6379')).toBe('/0.celery.pidbox');
    const env = JSON.parse(revokeMessage(['t1'], false, 1_000_000));
    expect(JSON.parse(Buffer.from(env.body as string, 'base64').toString())).toEqual({
      method: 'revoke', arguments: { task_id: 't1', terminate: false, signal: 'SIGTERM' }, destination: null, pattern: null, matcher: null,
    });
    expect(env.headers.expires).toBe(1010);
    expect(env.properties.delivery_info).toEqual({ exchange: 'celery.pidbox', routing_key: '' });
  });
});

describe('result backend states', () => {
  it('reads success, failure (type and message, never the traceback), progress and the rest', () => {
    expect(readTaskMeta('{"status": "SUCCESS", "result": 5, "traceback": null}')).toEqual({ kind: 'succeeded', value: 5 });
    expect(readTaskMeta('{"status": "FAILURE", "result": {"exc_type": "ValueError", "exc_message": ["bad input"], "exc_module": "builtins"}, "traceback": "Traceback (most recent call last): ..."}'))
      .toEqual({ kind: 'failed', type: 'ValueError', message: 'bad input' });
    expect(readTaskMeta('{"status": "PROGRESS", "result": {"done": 2, "total": 5}}')).toEqual({ kind: 'progress', processed: 2, total: 5 });
    expect(readTaskMeta('{"status": "PROGRESS", "result": {"current": 3, "total": 4}}')).toEqual({ kind: 'progress', processed: 3, total: 4 });
    expect(readTaskMeta('{"status": "STARTED", "result": {"pid": 1}}')).toEqual({ kind: 'started' });
    expect(readTaskMeta('{"status": "REVOKED"}')).toEqual({ kind: 'revoked' });
    expect(readTaskMeta('{"status": "RETRY"}')).toEqual({ kind: 'waiting' });
    expect(readTaskMeta('not json')).toBeNull();
  });
});

describe('CELERY_* settings', () => {
  it('is off without a broker and refuses the other variables alone', () => {
    expect(loadCelerySettings({})).toBeUndefined();
    expect(() => loadCelerySettings({ CELERY_ROUTES: '{}' })).toThrow(ConfigError);
  });

  it('defaults the backend to the broker and the allowed tasks to the routes\' tasks', () => {
    const s = loadCelerySettings({ CELERY_BROKER_URL: 'redis://h:6379/2', CELERY_ROUTES: '{"score_leads": {"task": "app.score"}}' })!;
    expect(s).toEqual({ brokerUrl: 'redis://h:6379/2', resultBackendUrl: 'redis://h:6379/2', routes: { score_leads: { task: 'app.score', queue: 'celery' } }, allowedTasks: ['app.score'] });
  });

  it('names the variable when a value is bad', () => {
    expect(() => loadCelerySettings({ CELERY_BROKER_URL: 'amqp://h' })).toThrow(/CELERY_BROKER_URL/);
    expect(() => loadCelerySettings({ CELERY_BROKER_URL: 'redis://h', CELERY_ROUTES: '{bad' })).toThrow(/CELERY_ROUTES must be JSON/);
    expect(() => loadCelerySettings({ CELERY_BROKER_URL: 'redis://h', CELERY_ROUTES: '{"t": {"task": "x y"}}' })).toThrow(/CELERY_ROUTES is invalid at t.task/);
    expect(() => loadCelerySettings({ CELERY_BROKER_URL: 'redis://h', CELERY_ALLOWED_TASKS: 'a.*, b c' })).toThrow(/CELERY_ALLOWED_TASKS/);
    expect(() => loadCelerySettings({ CELERY_BROKER_URL: 'redis://h', CELERY_ROUTES: '{"t": {"task": "x.y"}}', CELERY_ALLOWED_TASKS: 'z.*' })).toThrow(/does not allow x.y/);
  });

  it('allows exact names and prefix.* patterns only', () => {
    expect(isTaskAllowed(['app.tasks.*', 'other.run'], 'app.tasks.score')).toBe(true);
    expect(isTaskAllowed(['app.tasks.*'], 'app.tasksx.score')).toBe(false);
    expect(isTaskAllowed(['other.run'], 'other.run2')).toBe(false);
  });
});
