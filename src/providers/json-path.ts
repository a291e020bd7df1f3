// Reads a dotted JSON path (`data.emails[0].address`) out of an untrusted value.

/** The value at `path`, or undefined when any step is missing. */
export function readPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const step of path.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(step);
    if (!m) return undefined;
    current = own(current, m[1] ?? '');
    for (const index of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) {
      current = Array.isArray(current) ? current[Number(index[1])] : undefined;
    }
    if (current === undefined) return undefined;
  }
  return current;
}

// Own properties only: a path such as "__proto__" or "constructor" must not reach the prototype.
function own(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}
