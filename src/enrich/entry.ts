// An uploaded list row, and the case-insensitive reading of the recognised columns that steps use.

// A row as uploaded: column names unchanged, values as CSV text or JSON.
export type Entry = Record<string, unknown>;

// The trimmed text of a recognised column, whatever its case, or null when absent or blank.
export function column(entry: Entry, name: string): string | null {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(entry)) {
    if (key.trim().toLowerCase() !== wanted) continue;
    // JSON uploads may carry phones or postcodes as numbers; CSV always gives text.
    const text = typeof value === 'string' ? value.trim() : typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
    if (text !== '') return text;
  }
  return null;
}
