// Python's repr() of JSON values, for the argsrepr and kwargsrepr headers that Celery's tools
// (logs, flower, `celery inspect`) show in place of the arguments themselves.

/** Python's repr of a string: single quotes unless the string has ' and no ". */
function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** Python's repr of a JSON value (None, True, False, 'str', [..], {..}). */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return reprString(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${reprString(k)}: ${pythonRepr(v)}`).join(', ')}}`;
  }
  return reprString(String(value));
}

/** repr cut to `max` characters with a trailing "...", as Celery's saferepr keeps argsrepr short. */
export function shortRepr(value: unknown, max = 1024): string {
  const r = pythonRepr(value);
  return r.length <= max ? r : `${r.slice(0, max - 3)}...`;
}
