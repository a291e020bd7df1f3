// Removes secret-looking keys from client payloads before they are stored.

const SECRET_KEY = /password|secret|token|api_key|apikey/i;

export interface Sanitised<T> {
  value: T;
  /** Dot paths of removed keys (numeric array indexes), never their values. */
  removed: string[];
}

/** Returns a copy without keys that look like secrets, at any depth, in arrays too. */
export function sanitise<T>(input: T): Sanitised<T> {
  const removed: string[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (Array.isArray(v)) return v.map((item, i) => walk(item, path ? `${path}.${i}` : String(i)));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(v)) {
        const childPath = path ? `${path}.${k}` : k;
        if (SECRET_KEY.test(k)) {
          removed.push(childPath);
          continue;
        }
        out[k] = walk(child, childPath);
      }
      return out;
    }
    return v;
  };
  return { value: walk(input, '') as T, removed };
}
