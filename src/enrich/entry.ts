// An uploaded list row, and the case-insensitive reading of the recognised columns that steps use.

// A row as uploaded: column names unchanged, values as CSV text or JSON.
export type Entry = Record<string, unknown>;

// A cell as text: CSV gives strings; JSON uploads may carry phones or postcodes as numbers.
function cellText(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
}

// The trimmed text of a recognised column, whatever its case, or null when absent or blank.
export function column(entry: Entry, name: string): string | null {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(entry)) {
    if (key.trim().toLowerCase() !== wanted) continue;
    const text = cellText(value);
    if (text !== '') return text;
  }
  return null;
}

// Every non-blank column by lower-cased name, for steps that read many columns of one entry.
export function columnMap(entry: Entry): Map<string, string> {
  const map = new Map<string, string>();
  for (const [key, value] of Object.entries(entry)) {
    const text = cellText(value);
    const name = key.trim().toLowerCase();
    if (text !== '' && !map.has(name)) map.set(name, text);
  }
  return map;
}
