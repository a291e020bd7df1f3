// The guard keeps prototype keys, runaway nesting, NUL and broken UTF-16 out of stored JSON.
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, findJsonProblem } from '../../../src/jobs/json-guard.js';

/** `levels` nested containers, innermost holding a scalar. */
function nestedObjects(levels: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}
function nestedArrays(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

describe('findJsonProblem', () => {
  it('limits nesting to 32 levels', () => {
    expect(MAX_JSON_DEPTH).toBe(32);
  });

  it('accepts 32 levels of objects and refuses 33', () => {
    expect(findJsonProblem(nestedObjects(32))).toBeNull();
    const problem = findJsonProblem(nestedObjects(33));
    expect(problem?.message).toMatch(/deeper than 32/);
    expect(problem?.path).toBe(Array(32).fill('a').join('.'));
  });

  it('accepts 32 levels of arrays and refuses 33', () => {
    expect(findJsonProblem(nestedArrays(32))).toBeNull();
    expect(findJsonProblem(nestedArrays(33))?.path).toBe(Array(32).fill('0').join('.'));
  });

  it('counts mixed arrays and objects alike', () => {
    let v: unknown = 'x';
    for (let i = 0; i < 33; i++) v = i % 2 ? [v] : { k: v };
    expect(findJsonProblem(v)).not.toBeNull();
  });

  it('accepts ordinary JSON', () => {
    expect(findJsonProblem({ type: 'test_job', payload: { list: [1, 'two', null, { three: true }] } })).toBeNull();
    for (const v of [null, 0, '', 'text', false, [], {}]) expect(findJsonProblem(v)).toBeNull();
  });

  it('refuses U+0000 in a string value, at the top and nested', () => {
    expect(findJsonProblem('a\u0000b')).toEqual({ path: '', message: expect.stringMatching(/U\+0000/) });
    expect(findJsonProblem({ payload: { names: ['ok', 'bad\u0000'] } })?.path).toBe('payload.names.1');
  });

  it('refuses U+0000 in a key without echoing the raw character', () => {
    const problem = findJsonProblem({ payload: { 'k\u0000': 1 } });
    expect(problem?.message).toMatch(/U\+0000/);
    expect(problem?.path).toBe('payload.k\\u0000');
    expect(problem?.path).not.toContain('\u0000');
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %s at the top and at depth', (key) => {
    // JSON.parse makes __proto__ an own key, which is how it arrives from a client.
    const top = JSON.parse(`{"${key}": {"x": 1}}`) as unknown;
    expect(findJsonProblem(top)).toEqual({ path: key, message: `key "${key}" is not allowed` });
    const deep = JSON.parse(`{"payload": {"leads": [{"ok": 1}, {"${key}": 1}]}}`) as unknown;
    expect(findJsonProblem(deep)?.path).toBe(`payload.leads.1.${key}`);
  });

  it('allows keys that merely contain the forbidden words', () => {
    expect(findJsonProblem({ protoType: 1, constructorName: 2, my__proto__: 3 })).toBeNull();
  });

  it('refuses lone surrogates (PostgreSQL jsonb rejects them) but accepts paired ones', () => {
    expect(findJsonProblem({ s: 'emoji \ud83d\ude00 fine' })).toBeNull();
    expect(findJsonProblem({ s: 'bad \ud83d' })?.path).toBe('s');
    expect(findJsonProblem({ s: ['\ude00 bad'] })?.path).toBe('s.0');
    expect(findJsonProblem({ ['k\ud800']: 1 })?.message).toMatch(/surrogate|UTF-16|Unicode/i);
  });
});
