// Whatever is thrown, a client sees a coded error with a safe message: never internals, never a stack.
import { describe, expect, it } from 'vitest';
import { toAppError } from '../../../src/api/error-handler.js';
import { AppError, ERROR_CODES, validationError } from '../../../src/errors.js';

function fastifyError(code: string, statusCode: number, message = 'internal detail at /srv/app.js:1'): Error {
  return Object.assign(new Error(message), { code, statusCode });
}

describe('toAppError', () => {
  it('passes an AppError through unchanged', () => {
    const err = validationError([{ path: 'priority', message: 'too big' }]);
    expect(toAppError(err)).toBe(err);
  });

  it.each([
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'payload_too_large'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'unsupported_media_type'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'invalid_json'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'invalid_json'],
  ])('maps %s to %i %s', (code, status, appCode) => {
    const out = toAppError(fastifyError(code, status));
    expect(out.status).toBe(status);
    expect(out.code).toBe(appCode);
    expect(out.message).not.toContain('/srv/app.js');
  });

  it.each([
    [400, 'validation_error'],
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [404, 'not_found'],
    [409, 'conflict'],
    [413, 'payload_too_large'],
    [415, 'unsupported_media_type'],
    [422, 'unprocessable'],
  ])('maps another error with statusCode %i to %s, without its message', (statusCode, appCode) => {
    const out = toAppError(fastifyError('FST_SOMETHING', statusCode, 'SELECT secret FROM db.internal'));
    expect(out.status).toBe(statusCode);
    expect(out.code).toBe(appCode);
    expect(out.message).not.toMatch(/SELECT|db\.internal/);
  });

  it('keeps an unlisted 4xx a client error (400), never a 5xx', () => {
    const out = toAppError(fastifyError('FST_ERR_WHATEVER', 405));
    expect(out.status).toBe(400);
  });

  it('maps 503 to unavailable', () => {
    expect(toAppError(fastifyError('FST_ERR_UNAVAILABLE', 503)).code).toBe('unavailable');
  });

  it.each([
    ['a plain Error', new Error('connect ECONNREFUSED db.internal:5432')],
    ['a pg-like error', Object.assign(new Error('relation "enrichment_jobs" does not exist'), { code: '42P01', severity: 'ERROR' })],
    ['a 500 with a status', fastifyError('FST_ERR_X', 500, 'boom')],
    ['a string', 'boom'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
  ])('maps %s to a generic 500 internal_error', (_label, thrown) => {
    const out = toAppError(thrown);
    expect(out.status).toBe(500);
    expect(out.code).toBe('internal_error');
    expect(out.message).toBe('Something went wrong on our side; it has been logged.');
    expect(out.details).toEqual([]);
  });

  it('produces the contract body shape', () => {
    const body = toAppError(new AppError('not_found', 'No such job.')).toBody();
    expect(body).toEqual({ error: { code: 'not_found', message: 'No such job.', details: [] } });
  });

  it('gives every error code a status and a description', () => {
    for (const [code, def] of Object.entries(ERROR_CODES)) {
      expect(def.status, code).toBeGreaterThanOrEqual(400);
      expect(def.description.length, code).toBeGreaterThan(0);
    }
  });
});
