// List endpoints under /v1: import (CSV streamed, or JSON), page and read lists, page a list's entries.
import { Readable } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { AppError } from '../../errors.js';
import { RECOGNISED_COLUMNS } from '../../lists/columns.js';
import { type ImportedList, importCsv, importEntries } from '../../lists/csv-import.js';
import { decodeCreatedCursor, decodeEntryCursor } from '../../lists/cursor.js';
import { getList, listEntries, listLists } from '../../lists/repository.js';
import { errorResponse, jobIdParams } from '../schemas/job.js';
import { zodValidatorCompiler } from '../validation.js';

export interface ListRoutesOptions {
  pool: Pool;
  appRole: string;
}

/** The JSON upload's limit; CSV uploads stream and have none. */
export const LIST_JSON_BODY_LIMIT = 50 * 1024 * 1024;
const MAX_DETAILS = 50;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const jsonEntry = z
  .record(z.string(), scalar)
  .refine((e) => Object.keys(e).length > 0, { message: 'an entry needs at least one column' });

const createListBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  entries: z.array(jsonEntry).min(1).describe('Objects of scalar values: column name (kept as given) to value.'),
});

const createListQuery = z.object({
  name: z.string().trim().min(1).max(200).optional().describe('The list name for a CSV upload (default "upload <time>").'),
});

const column = z.object({ name: z.string(), mappedTo: z.enum(RECOGNISED_COLUMNS).nullable() });

const importedResponse = z.object({ id: z.uuid(), name: z.string(), entryCount: z.number().int(), columns: z.array(column) }).meta({ id: 'ImportedList' });

const listResponse = z
  .object({ id: z.uuid(), name: z.string(), entryCount: z.number().int(), columns: z.array(column), createdAt: z.string() })
  .meta({ id: 'List' });

const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
});

const entryResponse = z
  .object({
    id: z.string().describe('the entry id (a 64-bit integer, as a string)'),
    data: z.record(z.string(), z.unknown()).describe('the columns as uploaded'),
    enrichment: z.record(z.string(), z.unknown()).describe('by step type: the latest result of each step'),
  })
  .meta({ id: 'ListEntry' });

type RouteSchemaDef = Parameters<FastifySchemaCompiler<z.ZodType>>[0];

const isCsv = (request: FastifyRequest) => (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'text/csv';

/**
 * The body validator of POST /lists: a CSV body is the request stream itself and passes as it
 * is; a JSON body is checked against the schema (its details capped, an upload of a million
 * bad entries would otherwise answer a million lines).
 */
function uploadValidator(route: RouteSchemaDef): ReturnType<FastifySchemaCompiler<z.ZodType>> {
  const validate = zodValidatorCompiler(route);
  if (route.httpPart !== 'body') return validate;
  return (data: unknown) => {
    if (data instanceof Readable) return { value: data };
    const result = validate(data);
    if (typeof result === 'object' && 'error' in result && result.error instanceof AppError && result.error.details.length > MAX_DETAILS) {
      const { code, message, details } = result.error;
      return { error: new AppError(code, `${message} (the first ${MAX_DETAILS} of ${details.length} problems)`, details.slice(0, MAX_DETAILS)) };
    }
    return result;
  };
}

/** The JSON limit and the accepted types are this route's own: say so rather than the app-wide messages. */
function uploadErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply.status(413).send(new AppError('payload_too_large', 'A JSON list is limited to 50 MiB; upload larger lists as text/csv, which streams without a limit.').toBody());
  }
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return reply.status(415).send(new AppError('unsupported_media_type', 'Upload a list as text/csv (with a header row) or as application/json.').toBody());
  }
  throw err;
}

/** Registers POST/GET /lists, GET /lists/:id and GET /lists/:id/entries; a plugin of its own, so its text/csv parser stays here. */
export async function listRoutes(app: FastifyInstance, opts: ListRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pool, appRole } = opts;
  const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 413: errorResponse, 415: errorResponse };

  // The raw request stream goes to the handler: csv-import reads it with backpressure, so
  // there is no body limit and nothing is buffered whole.
  app.addContentTypeParser('text/csv', (_request, payload, done) => done(null, payload));

  r.post('/lists', {
    bodyLimit: LIST_JSON_BODY_LIMIT,
    // Fastify types a route's compiler with the whole route schema; it is handed one part's zod schema.
    validatorCompiler: (route) => uploadValidator(route as unknown as RouteSchemaDef),
    errorHandler: uploadErrors,
    // A body-less CSV request is parsed by nobody; give the importer an empty stream to refuse.
    preValidation: async (request) => {
      if (request.body === undefined && isCsv(request)) request.body = Readable.from([]) as unknown as typeof request.body;
    },
    schema: {
      tags: ['lists'],
      summary: 'Import a list',
      description:
        'Content-Type text/csv: a header row, then one row per entry, UTF-8, streamed with no size limit (?name= names the list). ' +
        'Blank lines are skipped; a file without rows is refused. Or application/json (up to 50 MiB): {name, entries: [{column: value}]}. ' +
        `Recognised columns (case-insensitive, trimmed): ${RECOGNISED_COLUMNS.join(', ')}; other columns are kept. ` +
        'A malformed CSV is a 400 invalid_csv whose message and details name the line; nothing is kept.',
      security: [{ bearerAuth: [] }],
      querystring: createListQuery,
      body: createListBody,
      response: { 201: importedResponse, ...errors },
    },
  }, async (request, reply) => {
    const body: unknown = request.body;
    const tenantId = request.auth.tenantId;
    let imported: ImportedList;
    if (body instanceof Readable) {
      const name = request.query.name ?? `upload ${new Date().toISOString()}`;
      // A refused file is answered at once while the rest of its upload is read and discarded
      // (importCsv resumes the body): closing the connection instead would cut a client still
      // sending, which then sees EPIPE rather than the 400 that names the bad line.
      imported = await importCsv(pool, { tenantId, name }, body);
    } else {
      const { name, entries } = request.body;
      imported = await importEntries(pool, { tenantId, name }, entries);
    }
    request.log.info({ listId: imported.id, entries: imported.entryCount }, 'list imported');
    return reply.status(201).header('location', `/v1/lists/${imported.id}`).send(imported);
  });

  r.get('/lists', {
    schema: {
      tags: ['lists'],
      summary: "Page the tenant's lists, newest first",
      security: [{ bearerAuth: [] }],
      querystring: pageQuery,
      response: { 200: z.object({ items: z.array(listResponse), nextCursor: z.string().nullable() }), ...errors },
    },
  }, async (request) => {
    const { limit, cursor } = request.query;
    const after = cursor !== undefined ? decodeCreatedCursor(cursor) : null;
    const tenantId = request.auth.tenantId;
    return withTenant(pool, appRole, tenantId, (tx) => listLists(tx, tenantId, limit, after));
  });

  r.get('/lists/:id', {
    schema: {
      tags: ['lists'],
      summary: 'Read a list',
      security: [{ bearerAuth: [] }],
      params: jobIdParams,
      response: { 200: listResponse, ...errors },
    },
  }, async (request) => {
    const list = await withTenant(pool, appRole, request.auth.tenantId, (tx) => getList(tx, request.params.id));
    if (!list) throw new AppError('not_found', 'No such list.');
    return list;
  });

  r.get('/lists/:id/entries', {
    schema: {
      tags: ['lists'],
      summary: "Page a list's entries by id, with each step's latest result",
      security: [{ bearerAuth: [] }],
      params: jobIdParams,
      querystring: pageQuery,
      response: { 200: z.object({ items: z.array(entryResponse), nextCursor: z.string().nullable() }), ...errors },
    },
  }, async (request) => {
    const { limit, cursor } = request.query;
    const after = cursor !== undefined ? decodeEntryCursor(cursor) : null;
    const page = await withTenant(pool, appRole, request.auth.tenantId, async (tx) => {
      // Row-level security hides another tenant's list: absent and foreign are the same 404.
      if (!(await getList(tx, request.params.id))) return null;
      return listEntries(tx, request.params.id, limit, after);
    });
    if (!page) throw new AppError('not_found', 'No such list.');
    return page;
  });
}
