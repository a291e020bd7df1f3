// Entries as lines of PostgreSQL's COPY text format: tenant_id, list_id, data (jsonb).

/** COPY list_entries with the columns in the order copyLine writes them. */
export const COPY_ENTRIES = 'COPY list_entries (tenant_id, list_id, data) FROM STDIN WITH (FORMAT text)';

/** Batches handed to the COPY stream are about this many characters: one CopyData message each. */
export const COPY_BATCH_CHARS = 64 * 1024;

// What JSON must escape (quote, backslash, control characters). A string without any is its
// own JSON body, and then also free of everything COPY's text format treats specially.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/**
 * JSON text made safe for a COPY text column. JSON escapes every control character (tab,
 * newline, carriage return included), so the only character COPY's text format treats
 * specially that JSON can contain is the backslash: it is doubled.
 */
export function copyEscape(json: string): string {
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
}

/** A string as a JSON string literal, ready for a COPY text column. */
export function copyJsonString(value: string): string {
  // The plain case skips JSON.stringify: most cells of a list are plain text.
  return NEEDS_ESCAPE.test(value) ? copyEscape(JSON.stringify(value)) : `"${value}"`;
}

/** The COPY text line of one entry whose JSON is already COPY-ready. */
export function copyLine(prefix: string, copyReadyJson: string): string {
  return `${prefix}${copyReadyJson}\n`;
}

/** The constant start of every line of one list's import. */
export function copyPrefix(tenantId: string, listId: string): string {
  return `${tenantId}\t${listId}\t`;
}

/** The prepared key of each column for recordJson: its COPY-ready JSON string and the colon. */
export function recordKeys(names: readonly string[]): string[] {
  return names.map((n) => `${copyJsonString(n)}:`);
}

/** The COPY-ready JSON object of a CSV record, from keys prepared once per import. */
export function recordJson(keys: readonly string[], record: readonly string[]): string {
  // Concatenation with prepared keys: no object per row, and keys stay in uploaded order.
  let json = '{';
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) json += ',';
    json += keys[i]! + copyJsonString(record[i] ?? '');
  }
  return `${json}}`;
}
