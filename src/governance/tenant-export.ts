// tenant_export: everything a tenant holds as one tar.gz archive of JSONL and CSV files with a
// manifest. Each file is streamed from PostgreSQL (COPY) to a temporary file, counting rows;
// the archive is then streamed from those files through gzip into the export's parts (about
// 1 MiB each, in PostgreSQL like every export), so memory stays at a few buffers whatever the size.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { to as copyTo } from 'pg-copy-streams';
import { pack as tarPack } from 'tar-stream';
import type { Pool, PoolClient } from '../db/pool.js';
import { completeExport, deleteParts, insertPart, lockExport } from '../lists/export/repository.js';
import { PartWriter } from '../lists/export/part-writer.js';
import { ENSURE_TENANT_EXPORT, type ExportFile, SET_TENANT, TENANT_EXPORT_FILES, copyStatement } from './tenant-export-sql.js';

/** The archive layout's version, in the manifest: bumped when a file's shape changes. */
export const TENANT_EXPORT_FORMAT_VERSION = 1;

export interface TenantExportRequest {
  pool: Pool;
  appRole: string;
  tenantId: string;
  /** the export's id, which is its job's id */
  exportId: string;
  signal?: AbortSignal;
}

export interface TenantExportOutcome {
  bytes: number;
  /** rows per file */
  files: Record<string, number>;
}

/** Runs fn in a transaction of the tenant on a connection of its own (COPY streams need one). */
async function inTenant<T>(pool: Pool, appRole: string, tenantId: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(SET_TENANT, [appRole, tenantId]);
    const out = await fn(client);
    await client.query('COMMIT');
    client.release();
    return out;
  } catch (err) {
    // A connection that was streaming when it failed is not reused.
    client.release(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

/** Counts newline-terminated rows passing through. */
class RowCounter extends Transform {
  rows = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.rows++;
    done(null, chunk);
  }
}

/** Streams one file's COPY into a temporary file; returns its rows (a CSV's header line not counted). */
async function dumpFile(client: PoolClient, file: ExportFile, path: string, signal?: AbortSignal): Promise<number> {
  const counter = new RowCounter();
  await pipeline(client.query(copyTo(copyStatement(file))), counter, createWriteStream(path), { signal });
  return file.format === 'csv' ? Math.max(0, counter.rows - 1) : counter.rows;
}

/** Writes the tenant's archive into the export's parts; the export record is made if absent. */
export async function runTenantExport(req: TenantExportRequest): Promise<TenantExportOutcome> {
  const { pool, appRole, tenantId, exportId } = req;
  await inTenant(pool, appRole, tenantId, (c) => c.query(ENSURE_TENANT_EXPORT, [exportId, tenantId]));
  const dir = await mkdtemp(join(tmpdir(), 'enrichd-tenant-export-'));
  try {
    const rows: Record<string, number> = {};
    // One transaction for every file: row-level security binds, and each file is one COPY.
    await inTenant(pool, appRole, tenantId, async (c) => {
      for (const file of TENANT_EXPORT_FILES) rows[file.name] = await dumpFile(c, file, join(dir, file.name), req.signal);
    });
    const manifest = Buffer.from(`${JSON.stringify({
      formatVersion: TENANT_EXPORT_FORMAT_VERSION,
      tenantId,
      exportId,
      createdAt: new Date().toISOString(),
      files: TENANT_EXPORT_FILES.map((f) => ({ name: f.name, table: f.table, format: f.format, rows: rows[f.name] ?? 0 })),
    }, null, 2)}\n`);

    return await inTenant(pool, appRole, tenantId, async (c) => {
      if (!(await lockExport(c, exportId))) throw new Error(`export ${exportId} vanished before it was written`);
      await deleteParts(c, exportId);
      const writer = new PartWriter((part, data) => insertPart(c, { exportId, tenantId, part, data }));
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          writer.write(chunk).then(() => done(), done);
        },
      });
      const tar = tarPack();
      const packing = pipeline(tar, createGzip(), sink, { signal: req.signal });
      tar.entry({ name: 'manifest.json', size: manifest.length }, manifest);
      for (const file of TENANT_EXPORT_FILES) {
        const path = join(dir, file.name);
        const { size } = await stat(path);
        const entry = tar.entry({ name: file.name, size });
        await pipeline(createReadStream(path), entry, { signal: req.signal });
      }
      tar.finalize();
      await packing;
      await writer.finish();
      const total = Object.values(rows).reduce((a, b) => a + b, 0);
      await completeExport(c, exportId, total, writer.bytes);
      return { bytes: writer.bytes, files: rows };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
