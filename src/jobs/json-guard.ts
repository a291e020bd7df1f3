// Refuses JSON that could hurt us later: prototype keys, deep nesting, NUL characters.

export const MAX_JSON_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

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
      if (v.includes('\u0000')) return { path, message: 'must not contain the U+0000 character' };
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
      if (key.includes('\u0000')) return { path: childPath.replace(/\u0000/g, '\\u0000'), message: 'key must not contain the U+0000 character' };
      stack.push({ v: (v as Record<string, unknown>)[key], path: childPath, depth: depth + 1 });
    }
  }
  return null;
}
