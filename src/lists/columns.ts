// The recognised entry columns, how an uploaded column name maps onto one, and which header names are refused.

/** Every column name the enrichment steps read (CONTRACT.md, "Lists, plans, exports"), lower case. */
export const RECOGNISED_COLUMNS = [
  'external_id',
  'first_name',
  'last_name',
  'full_name',
  'dob',
  'email',
  'phone',
  'address',
  'city',
  'state',
  'postcode',
  'country',
  'company',
  'domain',
  'contact_name',
  'contact_first_name',
  'contact_last_name',
  'contact_dob',
  'contact_address',
  'contact_city',
  'contact_state',
  'contact_postcode',
  'contact_phone',
  'contact_email',
] as const;
export type RecognisedColumn = (typeof RECOGNISED_COLUMNS)[number];

const RECOGNISED: ReadonlySet<string> = new Set(RECOGNISED_COLUMNS);
// The keys the JSON body guard refuses (src/jobs/json-guard.ts): a CSV header must not bring them in either.
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** One uploaded column: its name as uploaded and the recognised column it is read as, if any. */
export interface ListColumn {
  name: string;
  mappedTo: RecognisedColumn | null;
}

/** The recognised column an uploaded name stands for (case-insensitive, trimmed), or null. */
export function mapColumn(name: string): RecognisedColumn | null {
  const key = name.trim().toLowerCase();
  return RECOGNISED.has(key) ? (key as RecognisedColumn) : null;
}

/** The columns of an upload in their uploaded order, each with its mapping. */
export function describeColumns(names: readonly string[]): ListColumn[] {
  return names.map((name) => ({ name, mappedTo: mapColumn(name) }));
}

/** What is wrong with a header, naming the column (1-based) it concerns. */
export interface HeaderProblem {
  column: number;
  message: string;
}

/**
 * The first problem of a header, or null. A blank name has nothing to key its values by; two
 * names equal once trimmed and lower-cased would either overwrite each other in the entry's
 * JSON object or leave it ambiguous which one a step reads (steps read names that way).
 */
export function findHeaderProblem(names: readonly string[]): HeaderProblem | null {
  const seen = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const key = name.trim().toLowerCase();
    if (key === '') return { column: i + 1, message: `column ${i + 1} has an empty name` };
    if (FORBIDDEN_NAMES.has(name)) return { column: i + 1, message: `column ${i + 1} may not be named "${name}"` };
    const first = seen.get(key);
    if (first !== undefined) {
      const same = names[first - 1] === name;
      return {
        column: i + 1,
        message: same
          ? `column ${i + 1} repeats the name "${name}" of column ${first}`
          : `column ${i + 1} ("${name}") differs from column ${first} ("${names[first - 1]}") only in case or spaces`,
      };
    }
    seen.set(key, i + 1);
  }
  return null;
}
