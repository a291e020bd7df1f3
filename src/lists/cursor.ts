// Opaque keyset cursors for the list, plan and entry pages: the sort key of a page's last row.
import { z } from 'zod';
import { AppError } from '../errors.js';

/**
 * A position in a newest-first listing: created_at in microseconds since the epoch (a JS Date
 * keeps only milliseconds, and rows created in the same millisecond must not be skipped or
 * repeated) and the id that breaks ties.
 */
export interface CreatedKey {
  micros: string;
  id: string;
}

const createdKey = z.tuple([z.string().regex(/^-?\d{1,20}$/), z.guid()]);
const entryKey = z.tuple([z.string().regex(/^\d{1,19}$/)]);

const encode = (parts: string[]): string => Buffer.from(JSON.stringify(parts)).toString('base64url');

function decode<T>(cursor: string, schema: z.ZodType<T>): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new AppError('validation_error', 'The cursor is not one this API gave out.', [{ path: 'cursor', message: 'is not a valid cursor' }]);
  return result.data;
}

/** The cursor after a row of a newest-first listing. */
export function encodeCreatedCursor(key: CreatedKey): string {
  return encode([key.micros, key.id]);
}

/** Reads a newest-first cursor; a 400 naming `cursor` when it is not one of ours. */
export function decodeCreatedCursor(cursor: string): CreatedKey {
  const [micros, id] = decode(cursor, createdKey);
  return { micros, id: id.toLowerCase() };
}

/** The cursor after an entry (entries page by id, ascending). */
export function encodeEntryCursor(entryId: string): string {
  return encode([entryId]);
}

/** Reads an entry cursor: the id of the last entry seen. */
export function decodeEntryCursor(cursor: string): string {
  return decode(cursor, entryKey)[0];
}
