// Finds the first value a Celery worker could not receive as JSON: what JSON.stringify would
// silently drop or change (undefined, NaN, Infinity, a Date), or a string Python cannot encode.
import type { ErrorDetail } from '../errors.js';

const MAX_DEPTH = 64;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The first problem in a value that must travel as JSON, as a detail under `path`; null when there is none. */
export function jsonProblem(value: unknown, path: string, depth = 0, seen: Set<object> = new Set()): ErrorDetail | null {
  if (value === null || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : { path, message: `is ${String(value)}, which JSON cannot carry` };
  if (typeof value === 'string') return wellFormed(value) ? null : { path, message: 'has a lone UTF-16 surrogate, which a worker cannot decode as UTF-8' };
  if (typeof value !== 'object') return { path, message: `is ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}, which JSON cannot carry` };
  if (depth >= MAX_DEPTH) return { path, message: `nests deeper than ${MAX_DEPTH} levels` };
  if (seen.has(value)) return { path, message: 'refers to itself (a cycle)' };
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const p = jsonProblem(value[i], `${path}.${i}`, depth + 1, seen);
        if (p) return p;
      }
      return null;
    }
    if (!isPlainObject(value)) return { path, message: `is a ${value.constructor?.name ?? 'non-plain'} object, not plain JSON` };
    for (const [k, v] of Object.entries(value)) {
      if (!wellFormed(k)) return { path: `${path}.${k}`, message: 'is a key with a lone UTF-16 surrogate' };
      const p = jsonProblem(v, `${path}.${k}`, depth + 1, seen);
      if (p) return p;
    }
    return null;
  } finally {
    seen.delete(value);
  }
}
