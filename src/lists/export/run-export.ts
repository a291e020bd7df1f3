// Writes one export: the list's entries, page by page, as CSV or JSONL into parts of about 1 MiB.
import { stringify } from 'csv-stringify/sync';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { type ExportColumn, csvHeader, csvRow, exportColumns, jsonLine } from './columns.js';
import { PART_SIZE, PartWriter } from './part-writer.js';
import {
  type ExportFormat,
  completeExport,
  deleteParts,
  ensureExport,
  entryPage,
  insertPart,
  listForExport,
  lockExport,
  stepTypesRun,
} from './repository.js';

/** Entries read per page: a page and a part are what the export holds in memory. */
export const PAGE_SIZE = 1000;

export interface ExportRequest {
  pool: Pool;
  appRole: string;
  tenantId: string;
  /** the export's id, which is its job's id */
  exportId: string;
  listId: string;
  format: ExportFormat;
  signal?: AbortSignal;
  /** called after each page with the entries written so far and the list's entry count */
  onPage?: (processed: number, total: number) => Promise<void> | void;
  pageSize?: number;
  partSize?: number;
}

export interface ExportOutcome {
  rows: number;
  bytes: number;
  parts: number;
}

/** The list is gone (or another tenant's): no retry can write its export. */
export class ExportListNotFoundError extends Error {
  constructor(listId: string) {
    super(`list ${listId} does not exist`);
    this.name = 'ExportListNotFoundError';
  }
}

/** Text of the header, or empty for JSONL (no header line). */
function headerText(format: ExportFormat, columns: readonly ExportColumn[]): string {
  return format === 'csv' ? stringify([csvHeader(columns)]) : '';
}

/**
 * Writes the export. The record is ensured in a short transaction of its own (so POST
 * /v1/exports, which ensures it too, never waits behind a running export); the file is then
 * written in one transaction that locks the record and first removes any parts an earlier
 * attempt left, so a retry never duplicates a part and a reader sees the old file or the new
 * one, never half of one.
 */
export async function runExport(req: ExportRequest): Promise<ExportOutcome> {
  const { pool, appRole, tenantId, exportId, listId, format } = req;
  const pageSize = req.pageSize ?? PAGE_SIZE;
  await withTenant(pool, appRole, tenantId, (tx) => ensureExport(tx, { id: exportId, tenantId, listId, format }));
  return withTenant(pool, appRole, tenantId, async (tx) => {
    if (!(await lockExport(tx, exportId))) throw new Error(`export ${exportId} vanished before it was written`);
    await deleteParts(tx, exportId);
    const list = await listForExport(tx, listId);
    if (!list) throw new ExportListNotFoundError(listId);
    const columns = exportColumns(list.columns, await stepTypesRun(tx, listId));
    const writer = new PartWriter((part, data) => insertPart(tx, { exportId, tenantId, part, data }), req.partSize ?? PART_SIZE);
    await writer.write(headerText(format, columns));

    let rows = 0;
    let after = '0';
    for (;;) {
      req.signal?.throwIfAborted();
      const page = await entryPage(tx, listId, after, pageSize);
      if (page.length === 0) break;
      const text = format === 'csv' ? stringify(page.map((e) => csvRow(columns, e))) : `${page.map(jsonLine).join('\n')}\n`;
      await writer.write(text);
      rows += page.length;
      after = page[page.length - 1]!.id;
      await req.onPage?.(rows, Math.max(list.entryCount, rows));
      if (page.length < pageSize) break;
    }
    await writer.finish();
    await completeExport(tx, exportId, rows, writer.bytes);
    return { rows, bytes: writer.bytes, parts: writer.parts };
  });
}
