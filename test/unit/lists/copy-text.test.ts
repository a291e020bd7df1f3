// COPY text: what PostgreSQL's text format would misread must be escaped, and nothing else.
import { describe, expect, it } from 'vitest';
import { copyEscape, copyJsonString, copyLine, copyPrefix, recordJson, recordKeys } from '../../../src/lists/copy-text.js';

// What COPY's text format makes of a column: \\ is one backslash (the only escape our lines use).
const unCopy = (field: string) => field.replaceAll('\\\\', '\\');

describe('copyJsonString', () => {
  it.each(['plain', '', 'Zoë 李', 'quote " here', 'back\\slash', 'tab\tnew\nline\rcr', '\u0001\u001f'])('is the JSON string of %j once COPY has read it', (s) => {
    const out = copyJsonString(s);
    expect(out).not.toMatch(/[\t\n\r]/);
    expect(JSON.parse(unCopy(out))).toBe(s);
  });
});

describe('recordJson', () => {
  it('is the JSON object of the record with keys in uploaded order', () => {
    const keys = recordKeys(['b', 'a "q"', 'Ü', 'c\\d']);
    const json = unCopy(recordJson(keys, ['1', 'x\ty\n"z"', '', 'e\\f']));
    expect(JSON.parse(json)).toEqual({ b: '1', 'a "q"': 'x\ty\n"z"', Ü: '', 'c\\d': 'e\\f' });
    expect(Object.keys(JSON.parse(json) as object)).toEqual(['b', 'a "q"', 'Ü', 'c\\d']);
  });
});

describe('copyLine', () => {
  it('writes tenant, list and data separated by tabs, one line per entry', () => {
    const json = copyEscape(JSON.stringify({ a: 'back\\slash\ttab\nnl\r' }));
    const line = copyLine(copyPrefix('t', 'l'), json);
    expect(line.endsWith('\n')).toBe(true);
    const fields = line.slice(0, -1).split('\t');
    expect(fields).toHaveLength(3);
    expect(fields.slice(0, 2)).toEqual(['t', 'l']);
    expect(JSON.parse(unCopy(fields[2]!))).toEqual({ a: 'back\\slash\ttab\nnl\r' });
  });
});
