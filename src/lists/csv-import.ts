// Imports a list: a CSV stream or JSON entries, COPYed into list_entries in one transaction.
import { randomUUID } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool, PoolClient } from '../db/pool.js';
import { AppError } from '../errors.js';
import { type ListColumn, describeColumns, findHeaderProblem } from './columns.js';
import { COPY_BATCH_CHARS, COPY_ENTRIES, copyEscape, copyLine, copyPrefix } from './copy-text.js';
import { CsvToCopy, Utf8Check, toCsvError } from './csv-stages.js';

/** Who the list belongs to and what it is called. */
export interface ImportTarget {
  tenantId: string;
  name: string;
}

/** What POST /v1/lists answers. */
export interface ImportedList {
  id: string;
  name: string;
  entryCount: number;
  columns: ListColumn[];
}

/** A JSON upload's entry: column name to scalar value. */
export type JsonEntry = Record<string, string | number | boolean | null>;

const INSERT_LIST = 'INSERT INTO lists (id, tenant_id, name) VALUES ($1::uuid, $2::uuid, $3::text)';
// Room for the parser to run ahead while PostgreSQL catches up (and the reverse): without it
// each 64 KB batch waits for the socket to drain, and the two sides take turns instead of
// working at once. Bounded, so memory stays flat.
const COPY_BUFFER_BYTES = 4 * 1024 * 1024;

const FINISH_LIST = 'UPDATE lists SET entry_count = $2::int, columns = $3::jsonb WHERE id = $1::uuid';

/** What filling the COPY produced. */
interface Filled {
  columns: string[];
  count: number;
}

/**
 * One transaction: the list row, the COPY of its entries, then its count and columns. Any
 * failure rolls everything back, so a refused upload leaves no list and no entries.
 *
 * This runs as the connecting (owner) role, not through withTenant: PostgreSQL refuses COPY
 * FROM into a table with row-level security for a role the policies apply to, and the
 * application role is one. The tenant is therefore never taken from the upload: tenant_id is
 * the authenticated tenant (request.auth.tenantId) and list_id a fresh id, both written by
 * this code into every line, and nothing else is read or written on this path.
 */
async function inImportTransaction(pool: Pool, target: ImportTarget, fill: (copy: Writable, listId: string) => Promise<Filled>): Promise<ImportedList> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const id = randomUUID();
    await client.query(INSERT_LIST, [id, target.tenantId, target.name]);
    const copy = client.query(copyFrom(COPY_ENTRIES, { highWaterMark: COPY_BUFFER_BYTES }));
    const { columns, count } = await fill(copy, id);
    // The server's own count of what it stored: the two must agree, or lines were mangled.
    if (copy.rowCount !== count) throw new Error(`COPY stored ${copy.rowCount} entries of ${count}`);
    const described = describeColumns(columns);
    await client.query(FINISH_LIST, [id, count, JSON.stringify(described)]);
    await client.query('COMMIT');
    return { id, name: target.name, entryCount: count, columns: described };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    release(client);
  }
}

/** Back to the pool only if the connection is idle outside a transaction (a failed COPY can leave it otherwise). */
function release(client: PoolClient): void {
  const state = client.getTransactionStatus();
  client.release(state === 'I' ? undefined : new Error(`connection left in transaction state ${state}`));
}

/**
 * Streams a CSV upload (header row first) into a new list. The body is read with backpressure
 * all the way to PostgreSQL's socket, so memory stays flat whatever the size. A malformed file
 * is a 400 invalid_csv naming its line; the rest of the upload is then read and discarded, so
 * the client, still sending, gets to read the answer.
 */
export async function importCsv(pool: Pool, target: ImportTarget, body: Readable): Promise<ImportedList> {
  return inImportTransaction(pool, target, async (copy, listId) => {
    const check = new Utf8Check();
    const parser = new CsvToCopy(copyPrefix(target.tenantId, listId));
    // The body is piped rather than put in the pipeline: a pipeline destroys its streams on
    // failure, and destroying the request would close the socket before the 400 is sent.
    const cut = () => {
      if (!body.readableEnded) check.destroy(new AppError('validation_error', 'The upload ended before the whole file arrived.'));
    };
    body.once('error', cut);
    body.once('close', cut);
    body.pipe(check);
    try {
      await pipeline(check, parser, copy);
    } catch (err) {
      body.unpipe(check);
      body.resume();
      throw toCsvError(err, parser);
    } finally {
      body.off('error', cut);
      body.off('close', cut);
    }
    return { columns: parser.header ?? [], count: parser.count };
  });
}

/** The columns of a JSON upload: every key in the order first seen; a 400 naming the problem if unusable. */
export function jsonColumns(entries: readonly JsonEntry[]): string[] {
  const seen = new Set<string>();
  const columns: string[] = [];
  for (const entry of entries) {
    for (const key of Object.keys(entry)) {
      if (seen.has(key)) continue;
      seen.add(key);
      columns.push(key);
    }
  }
  const problem = findHeaderProblem(columns);
  if (problem) throw new AppError('validation_error', 'The entries have unusable column names.', [{ path: 'entries', message: problem.message.replace(/^column \d+/, `column "${columns[problem.column - 1]}"`) }]);
  return columns;
}

function* copyBatches(prefix: string, entries: readonly JsonEntry[]): Generator<string> {
  let batch = '';
  for (const entry of entries) {
    batch += copyLine(prefix, copyEscape(JSON.stringify(entry)));
    if (batch.length >= COPY_BATCH_CHARS) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
}

/** Imports JSON entries (already validated: objects of scalars, at least one) into a new list. */
export async function importEntries(pool: Pool, target: ImportTarget, entries: readonly JsonEntry[]): Promise<ImportedList> {
  const columns = jsonColumns(entries);
  return inImportTransaction(pool, target, async (copy, listId) => {
    await pipeline(Readable.from(copyBatches(copyPrefix(target.tenantId, listId), entries)), copy);
    return { columns, count: entries.length };
  });
}
