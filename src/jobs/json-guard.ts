// Refuses JSON that could hurt us later: prototype keys, deep nesting, NUL characters, lone surrogates.

export const MAX_JSON_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
// With the u flag a surrogate class matches only unpaired halves; PostgreSQL's jsonb refuses
// those (and U+0000), so letting one through would turn a client's input into a 500.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'the U+0000 character';
  if (LONE_SURROGATE.test(s)) return 'an unpaired UTF-16 surrogate (invalid Unicode)';
  return null;
}

export interface JsonGuardIssue {
  path: string;
  message: string;
}

/** Returns the first problem in a parsed JSON value, or null when it is acceptable. */
export function findJsonProblem(value: unknown): JsonGuardIssue | null {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: '', depth: 1 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) return { path: printablePath(path), message: `must not contain ${problem}` };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return { path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: path ? `${path}.${i}` : String(i), depth: depth + 1 }));
      continue;
    }
    for (const key of Object.keys(v)) {
      const childPath = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) return { path: childPath, message: `key "${key}" is not allowed` };
      const problem = textProblem(key);
      if (problem) return { path: printablePath(childPath), message: `key must not contain ${problem}` };
      stack.push({ v: (v as Record<string, unknown>)[key], path: childPath, depth: depth + 1 });
    }
  }
  return null;
}

/** A path safe to echo back in JSON (and to store in logs): NUL and lone surrogates escaped. */
function printablePath(path: string): string {
  const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return path.replaceAll('\u0000', escape).replace(/[\uD800-\uDFFF]/gu, escape);
}
