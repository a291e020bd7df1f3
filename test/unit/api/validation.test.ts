// Zod issues become the contract's details: dot paths, numeric indexes, one entry per unknown key.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { issuesToDetails, zodValidatorCompiler } from '../../../src/api/validation.js';
import { AppError } from '../../../src/errors.js';

const schema = z.strictObject({
  name: z.string(),
  items: z.array(z.strictObject({ n: z.number().int() })).optional(),
});

function issues(value: unknown) {
  const r = schema.safeParse(value);
  if (r.success) throw new Error('expected a failure');
  return r.error.issues;
}

describe('issuesToDetails', () => {
  it('joins paths with dots and numeric indexes', () => {
    expect(issuesToDetails(issues({ name: 'x', items: [{ n: 1 }, { n: 1.5 }] }))).toEqual([{ path: 'items.1.n', message: expect.any(String) }]);
  });

  it('names each unknown key in its own detail', () => {
    const details = issuesToDetails(issues({ name: 'x', foo: 1, bar: 2, items: [{ n: 1, baz: 3 }] }));
    expect(details.map((d) => d.path).sort()).toEqual(['bar', 'foo', 'items.0.baz']);
    for (const d of details) expect(d.message).toBe('is not a known field');
  });

  it('prefixes paths', () => {
    expect(issuesToDetails(issues({}), ['payload']).map((d) => d.path)).toEqual(['payload.name']);
  });

  it('gives an empty path for a wrong root', () => {
    expect(issuesToDetails(issues(null)).map((d) => d.path)).toEqual(['']);
  });
});

describe('zodValidatorCompiler', () => {
  it('returns the parsed value or a 400 AppError with details', () => {
    const validate = zodValidatorCompiler({ schema, method: 'POST', url: '/x', httpPart: 'body' }) as (d: unknown) => { value?: unknown; error?: unknown };
    expect(validate({ name: 'a' })).toEqual({ value: { name: 'a' } });
    const { error } = validate({ name: 1 });
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(400);
    expect((error as AppError).details).toEqual([{ path: 'name', message: expect.any(String) }]);
  });

  it('prefixes header issues with headers', () => {
    const validate = zodValidatorCompiler({ schema: z.object({ 'x-a': z.string() }), method: 'GET', url: '/x', httpPart: 'headers' }) as (d: unknown) => { error?: AppError };
    expect(validate({}).error?.details).toEqual([{ path: 'headers.x-a', message: expect.any(String) }]);
  });
});
