// Export endpoints under /v1: create (an `export` job), list, read, and download the file.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/transaction.js';
import { AppError, validationError } from '../../errors.js';
import { JOB_STATUSES } from '../../jobs/status.js';
import { type ExportRow, ensureExport, getExport, listExports, readPart } from '../../lists/export/repository.js';
import { type CreateJobDeps, createJob } from '../create-job.js';
import { errorResponse } from '../schemas/job.js';

export interface ExportRoutesOptions {
  /** what createJob needs: the same deps the job routes get */
  deps: CreateJobDeps;
}

const exportIdParams = z.object({ id: z.guid({ message: 'must be a UUID' }) });

const createExportBody = z.strictObject({
  listId: z.guid({ message: 'must be a UUID' }).describe('The list to export (one of this tenant\'s).'),
  format: z.enum(['csv', 'jsonl']).describe('csv: the uploaded columns, then <step>.<field> columns; jsonl: one {id, data, enrichment} object a line.'),
});

const listExportsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Page size, 1 to 500 (default 50).'),
  cursor: z.string().max(200).optional().describe("The previous page's nextCursor."),
});

const exportResponse = z
  .object({
    id: z.uuid().describe("The export's id, which is also its job's id."),
    listId: z.uuid().nullable().describe('The exported list; null for a tenant export (kind "tenant").'),
    kind: z.enum(['list', 'tenant']).describe('list: one list (POST /v1/exports); tenant: everything the tenant holds (a tenant_export job), a tar.gz archive.'),
    format: z.enum(['csv', 'jsonl', 'tar.gz']),
    status: z.enum(JOB_STATUSES).describe("The export job's status; the file can be downloaded once it is completed."),
    rows: z.number().int().describe('Entries written (0 until completed).'),
    bytes: z.number().int().describe("The file's size in bytes (0 until completed)."),
    createdAt: z.string(),
    completedAt: z.string().nullable().describe('When the file was complete.'),
  })
  .meta({ id: 'Export' });

const exportPage = z.object({
  items: z.array(exportResponse),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page.'),
});

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson', 'tar.gz': 'application/gzip' } as const;

/** An export as every endpoint returns it. */
function toExport(row: ExportRow): z.infer<typeof exportResponse> {
  return {
    id: row.id,
    listId: row.list_id,
    kind: row.kind,
    format: row.format,
    status: row.status,
    rows: row.rows,
    bytes: row.bytes,
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
  };
}

// A cursor is the last item's exact position, (created_at in microseconds, id), opaque to clients.
const encodeCursor = (row: ExportRow): string => Buffer.from(`${row.created_us}.${row.id}`).toString('base64url');
const CURSOR = /^(\d{1,20})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

function decodeCursor(cursor: string): { createdUs: string; id: string } {
  const m = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw validationError([{ path: 'cursor', message: 'is not a cursor from this listing' }]);
  return { createdUs: m[1]!, id: m[2]! };
}

/** createJob names the payload's fields; this endpoint's body has them at the top level. */
function renamePayloadPaths(err: AppError): AppError {
  const details = err.details.map((d) => {
    const detail = d as { path?: string };
    return detail.path?.startsWith('payload.') ? { ...detail, path: detail.path.slice('payload.'.length) } : d;
  });
  return new AppError(err.code, err.message, details);
}

/** Registers POST/GET /exports, GET /exports/:id and GET /exports/:id/download. */
export async function exportRoutes(app: FastifyInstance, opts: ExportRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { deps } = opts;
  const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse, 422: errorResponse };
  const inTenant = <T>(tenantId: string, fn: Parameters<typeof withTenant<T>>[3]) => withTenant(deps.pool, deps.appRole, tenantId, fn);

  r.post('/exports', {
    schema: {
      tags: ['exports'],
      summary: 'Export a list',
      description:
        'Submits an `export` job for the list and answers 202 with the export (200 for a repeated Idempotency-Key with the same body). ' +
        'A list that does not exist or is another tenant\'s is 422. Poll GET /v1/exports/:id until status is completed, then download.',
      security: [{ bearerAuth: [] }],
      body: createExportBody,
      response: { 200: exportResponse, 202: exportResponse, ...errors },
    },
  }, async (request, reply) => {
    const { listId, format } = request.body;
    const key = request.headers['idempotency-key'];
    let outcome;
    try {
      outcome = await createJob(deps, request.auth, { type: 'export', payload: { listId, format } }, Array.isArray(key) ? key[0] : key, request.log);
    } catch (err) {
      throw err instanceof AppError ? renamePayloadPaths(err) : err;
    }
    const { tenantId } = request.auth;
    const row = await inTenant(tenantId, async (tx) => {
      // The worker may have recorded it first (it ensures the row too): then this changes nothing.
      await ensureExport(tx, { id: outcome.row.id, tenantId, listId, format });
      return getExport(tx, outcome.row.id);
    });
    if (!row) throw new Error(`export ${outcome.row.id} not found right after it was recorded`);
    return reply
      .status(outcome.created ? 202 : 200)
      .header('location', `/v1/exports/${row.id}`)
      .send(toExport(row));
  });

  r.get('/exports', {
    schema: {
      tags: ['exports'],
      summary: "List the tenant's exports",
      description: 'Newest first. Exports submitted as jobs through POST /v1/enrichment/jobs appear once their job has started.',
      security: [{ bearerAuth: [] }],
      querystring: listExportsQuery,
      response: { 200: exportPage, ...errors },
    },
  }, async (request) => {
    const { limit, cursor } = request.query;
    const after = cursor !== undefined ? decodeCursor(cursor) : null;
    // One more than asked tells whether another page follows.
    const rows = await inTenant(request.auth.tenantId, (tx) => listExports(tx, after, limit + 1));
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(toExport), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  });

  r.get('/exports/:id', {
    schema: {
      tags: ['exports'],
      summary: 'Read an export',
      security: [{ bearerAuth: [] }],
      params: exportIdParams,
      response: { 200: exportResponse, ...errors },
    },
  }, async (request) => {
    const row = await inTenant(request.auth.tenantId, (tx) => getExport(tx, request.params.id));
    if (!row) throw new AppError('not_found', 'No such export.');
    return toExport(row);
  });

  r.get('/exports/:id/download', {
    schema: {
      tags: ['exports'],
      summary: "Download an export's file",
      description: 'Streams the file: CSV (text/csv), JSON Lines (application/x-ndjson) or, for a tenant export, a tar.gz archive (application/gzip). 409 while the export is not completed, or once an erasure deleted its file.',
      security: [{ bearerAuth: [] }],
      params: exportIdParams,
      response: {
        200: {
          description: 'The file.',
          content: { 'text/csv': { schema: z.string() }, 'application/x-ndjson': { schema: z.string() }, 'application/gzip': { schema: z.string() } },
        },
        ...errors,
      },
    },
  }, async (request, reply) => {
    const { tenantId } = request.auth;
    const row = await inTenant(tenantId, (tx) => getExport(tx, request.params.id));
    if (!row) throw new AppError('not_found', 'No such export.');
    if (row.status !== 'completed' || row.completed_at === null) {
      throw new AppError('conflict', `The export is ${row.status}; it can be downloaded once it is completed.`);
    }
    if (row.erased_at !== null) {
      throw new AppError('conflict', 'An erasure deleted this export\'s file (it held the erased person); request a new export.');
    }
    // Part by part, each in its own short transaction: memory stays at one part, and a slow
    // client holds no connection while it reads.
    async function* parts(): AsyncGenerator<Buffer> {
      for (let part = 0; ; part++) {
        const data = await inTenant(tenantId, (tx) => readPart(tx, row!.id, part));
        if (data === null) return;
        yield data;
      }
    }
    // The schema documents the body as text; Fastify sends the stream as it comes.
    return (reply as FastifyReply)
      .status(200)
      .header('content-type', CONTENT_TYPES[row.format])
      .header('content-length', String(row.bytes))
      .header('content-disposition', `attachment; filename="export-${row.id}.${row.format}"`)
      .send(Readable.from(parts(), { objectMode: false }));
  });
}
