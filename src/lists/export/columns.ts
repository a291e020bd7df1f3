// Export columns and cells: which columns a list's export has, one entry's row, and the
// escaping that keeps spreadsheets from running a cell as a formula. Pure: no I/O.

/** The fields each known step's result is exported as, in result order (CONTRACT.md's step table). */
export const STEP_FIELDS: Readonly<Record<string, readonly string[]>> = {
  rpc_score: ['score', 'class', 'reasons'],
  email_validation: ['email', 'status', 'syntax', 'disposable', 'role', 'freeMail', 'domain', 'reasons'],
  phone_normalization: ['e164', 'valid', 'type', 'country'],
  company_domain: ['domain', 'freeMail'],
};

/** The order step columns come in: the documented step order, then other step types by name. */
const STEP_ORDER = Object.keys(STEP_FIELDS);

/** An uploaded column as lists.columns records it. */
export interface UploadedColumn {
  name: string;
  mappedTo: string | null;
}

/** One column of the export: an uploaded column, or a field of a step's outcome. */
export type ExportColumn =
  | { kind: 'data'; header: string; name: string }
  | { kind: 'step'; header: string; step: string; field: string }
  | { kind: 'skipped'; header: string; step: string }
  | { kind: 'error'; header: string; step: string };

/** The fields of a step; a step type this release does not know is exported whole as `result`. */
export function stepFields(step: string): readonly string[] {
  return STEP_FIELDS[step] ?? ['result'];
}

/**
 * The export's columns: every uploaded column in the list's order, then for each step type
 * (documented order, unknown ones after by name) its fields, `skipped` and `error`. Each step
 * gets all of its columns, so the file's shape depends on the steps run, not on the data.
 */
export function exportColumns(uploaded: readonly UploadedColumn[], steps: Iterable<string>): ExportColumn[] {
  const columns: ExportColumn[] = uploaded.map((c) => ({ kind: 'data', header: c.name, name: c.name }));
  const unique = [...new Set(steps)];
  const rank = (s: string) => (STEP_ORDER.includes(s) ? STEP_ORDER.indexOf(s) : STEP_ORDER.length);
  unique.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const step of unique) {
    for (const field of stepFields(step)) columns.push({ kind: 'step', header: `${step}.${field}`, step, field });
    columns.push({ kind: 'skipped', header: `${step}.skipped`, step });
    columns.push({ kind: 'error', header: `${step}.error`, step });
  }
  return columns;
}

/** One entry as the export reads it: uploaded data, merged results, and the errors still standing. */
export interface ExportEntry {
  id: string;
  data: Record<string, unknown>;
  /** {step type: result}, the latest run of each step */
  enrichment: Record<string, unknown>;
  /** {step type: message} for steps whose latest run raised */
  errors: Record<string, string>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value as cell text: strings as they are, other scalars printed, arrays and objects as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

// A spreadsheet reads a cell starting with one of these as a formula (tab and CR too: some
// programs strip them and then see the = behind). OWASP's CSV injection advice: prefix a quote.
const FORMULA_START = /^[=+\-@\t\r]/;

/** A CSV cell made safe to open in a spreadsheet: a leading formula character gets a ' before it. */
export function escapeFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** An entry's value for one column, unescaped. */
function columnValue(col: ExportColumn, entry: ExportEntry): unknown {
  switch (col.kind) {
    case 'data':
      return entry.data[col.name];
    case 'step': {
      const result = entry.enrichment[col.step];
      if (col.field === 'result' && !(col.step in STEP_FIELDS)) return result;
      return isRecord(result) ? result[col.field] : undefined;
    }
    case 'skipped': {
      const result = entry.enrichment[col.step];
      return isRecord(result) ? result.skipped : undefined;
    }
    case 'error':
      return entry.errors[col.step];
  }
}

/** An entry's CSV row: one escaped cell per column. */
export function csvRow(columns: readonly ExportColumn[], entry: ExportEntry): string[] {
  return columns.map((col) => escapeFormula(cellText(columnValue(col, entry))));
}

/** The CSV header row, escaped like any cell (a column name is the client's text too). */
export function csvHeader(columns: readonly ExportColumn[]): string[] {
  return columns.map((col) => escapeFormula(col.header));
}

/** An entry's JSONL line (without the newline): {id, data, enrichment}, plus errors when a step raised. */
export function jsonLine(entry: ExportEntry): string {
  const line: Record<string, unknown> = { id: entry.id, data: entry.data, enrichment: entry.enrichment };
  if (Object.keys(entry.errors).length > 0) line.errors = entry.errors;
  return JSON.stringify(line);
}
