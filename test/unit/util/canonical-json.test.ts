// Idempotency compares bodies by canonical JSON: key order must not matter, anything else must.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalHash, canonicalJson } from '../../../src/util/canonical-json.js';

/** The same value with every object's keys in reverse insertion order. */
function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).reverse().map(([k, c]) => [k, reverseKeys(c)]));
  }
  return v;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('is independent of key order but not of array order or values', () => {
    expect(canonicalHash({ type: 'test_job', payload: { a: 1, b: 2 } })).toBe(canonicalHash({ payload: { b: 2, a: 1 }, type: 'test_job' }));
    expect(canonicalHash({ tags: ['a', 'b'] })).not.toBe(canonicalHash({ tags: ['b', 'a'] }));
    expect(canonicalHash({ a: 1 })).not.toBe(canonicalHash({ a: '1' }));
    expect(canonicalHash({ a: 1 })).not.toBe(canonicalHash({ a: 1, b: null }));
  });

  it('drops undefined properties as JSON does', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it('serialises values with toJSON as JSON.stringify does', () => {
    const at = new Date('2024-01-02T03:04:05.000Z');
    expect(canonicalJson({ at })).toBe('{"at":"2024-01-02T03:04:05.000Z"}');
  });

  it('is a 64-hex SHA-256', () => {
    expect(canonicalHash({})).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives equal strings for key-reordered values and parses back to the value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        expect(canonicalJson(reverseKeys(v))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 500 },
    );
  });
});
