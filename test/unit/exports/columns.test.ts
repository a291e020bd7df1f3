// Export columns and cells: the column derivation, cell text, and escaping against formula injection.
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ExportEntry, cellText, csvHeader, csvRow, escapeFormula, exportColumns, jsonLine } from '../../../src/lists/export/columns.js';

const uploaded = [
  { name: 'First Name', mappedTo: 'first_name' },
  { name: 'email', mappedTo: 'email' },
  { name: 'notes', mappedTo: null },
];

describe('escapeFormula', () => {
  it.each(['=SUM(A1)', '+1', '-2', '@x', '\tcmd', '\r=1', '=', '-'])('prefixes a quote to %j', (cell) => {
    expect(escapeFormula(cell)).toBe(`'${cell}`);
  });

  it.each(['', 'Ann', '1', ' =1', "'=1", 'a=b', 'x@y.com', '2-3', '\n=1'])('leaves %j alone', (cell) => {
    expect(escapeFormula(cell)).toBe(cell);
  });

  it('never leaves a cell that starts with a formula character', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const out = escapeFormula(s);
        expect(/^[=+\-@\t\r]/.test(out)).toBe(false);
        // only ever adds the one quote
        expect(out === s || out === `'${s}`).toBe(true);
      }),
    );
  });
});

describe('exportColumns', () => {
  it('puts uploaded columns first in upload order, then each step in the documented order', () => {
    const headers = exportColumns(uploaded, ['company_domain', 'rpc_score']).map((c) => c.header);
    expect(headers).toEqual([
      'First Name',
      'email',
      'notes',
      'rpc_score.score',
      'rpc_score.class',
      'rpc_score.reasons',
      'rpc_score.skipped',
      'rpc_score.error',
      'company_domain.domain',
      'company_domain.freeMail',
      'company_domain.skipped',
      'company_domain.error',
    ]);
  });

  it('names every documented field of every step', () => {
    const all = ['phone_normalization', 'email_validation', 'rpc_score', 'company_domain'];
    const headers = exportColumns([], all).map((c) => c.header);
    expect(headers).toEqual([
      ...['score', 'class', 'reasons', 'skipped', 'error'].map((f) => `rpc_score.${f}`),
      ...['email', 'status', 'syntax', 'disposable', 'role', 'freeMail', 'domain', 'reasons', 'skipped', 'error'].map((f) => `email_validation.${f}`),
      ...['e164', 'valid', 'type', 'country', 'skipped', 'error'].map((f) => `phone_normalization.${f}`),
      ...['domain', 'freeMail', 'skipped', 'error'].map((f) => `company_domain.${f}`),
    ]);
  });

  it('lists a step once however often it was run, and an unknown step as its whole result', () => {
    const headers = exportColumns([], ['zeta', 'rpc_score', 'rpc_score', 'alpha']).map((c) => c.header);
    expect(headers.filter((h) => h === 'rpc_score.class')).toHaveLength(1);
    expect(headers.slice(-6)).toEqual(['alpha.result', 'alpha.skipped', 'alpha.error', 'zeta.result', 'zeta.skipped', 'zeta.error']);
  });

  it('has only the uploaded columns when no step ran', () => {
    expect(exportColumns(uploaded, []).map((c) => c.header)).toEqual(['First Name', 'email', 'notes']);
  });
});

describe('rows', () => {
  const columns = exportColumns(uploaded, ['rpc_score', 'email_validation', 'phone_normalization']);
  const entry: ExportEntry = {
    id: '7',
    data: { 'First Name': '=SUM(A1)', email: '@x', notes: 'a, "quoted"\nline' },
    enrichment: {
      rpc_score: { score: 93, class: 'rpc', weight: 12, reasons: [{ field: 'dob', level: 'exact', weight: 10 }] },
      email_validation: { skipped: 'missing_input' },
    },
    errors: { phone_normalization: 'boom' },
  };

  it('fills step fields, skipped and error cells, and escapes formula cells', () => {
    const row = Object.fromEntries(columns.map((c, i) => [c.header, csvRow(columns, entry)[i]]));
    expect(row['First Name']).toBe("'=SUM(A1)");
    expect(row.email).toBe("'@x");
    expect(row.notes).toBe('a, "quoted"\nline');
    expect(row['rpc_score.score']).toBe('93');
    expect(row['rpc_score.class']).toBe('rpc');
    expect(JSON.parse(row['rpc_score.reasons']!)).toEqual([{ field: 'dob', level: 'exact', weight: 10 }]);
    expect(row['rpc_score.skipped']).toBe('');
    expect(row['email_validation.status']).toBe('');
    expect(row['email_validation.skipped']).toBe('missing_input');
    expect(row['phone_normalization.e164']).toBe('');
    expect(row['phone_normalization.error']).toBe('boom');
  });

  it('survives a CSV round trip', () => {
    const text = stringify([csvHeader(columns), csvRow(columns, entry)]);
    const [header, row] = parse(text) as string[][];
    expect(header).toEqual(columns.map((c) => c.header));
    expect(row).toEqual(csvRow(columns, entry));
  });

  it('escapes a header that looks like a formula', () => {
    expect(csvHeader(exportColumns([{ name: '=cmd', mappedTo: null }], []))).toEqual(["'=cmd"]);
  });

  it('writes JSONL without escaping, with errors only when a step raised', () => {
    expect(JSON.parse(jsonLine(entry))).toEqual({ id: '7', data: entry.data, enrichment: entry.enrichment, errors: { phone_normalization: 'boom' } });
    expect(JSON.parse(jsonLine({ ...entry, errors: {} }))).toEqual({ id: '7', data: entry.data, enrichment: entry.enrichment });
  });

  it.each([
    [null, ''],
    [undefined, ''],
    [false, 'false'],
    [0, '0'],
    ['x', 'x'],
    [['a', 'b'], '["a","b"]'],
    [{ a: 1 }, '{"a":1}'],
  ])('prints %j as %j', (value, text) => {
    expect(cellText(value)).toBe(text);
  });
});
