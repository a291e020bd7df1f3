// The audit hooks: every state-changing call made with a tenant token is queued for the trail
// when its answer has gone out. Calls without a token (provider callbacks, the process
// endpoint, a refused token) have no request.auth and are not recorded.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { asResourceId, auditActionOf, refineAction } from './actions.js';
import type { AuditWriter } from './writer.js';

// The created resource's id, read from the answer before it is serialised.
const createdIds = new WeakMap<FastifyRequest, string>();

const SUB_MAX = 200;

/** Adds the hooks that record state-changing calls through the writer. */
export function registerAuditHooks(app: FastifyInstance, writer: AuditWriter): void {
  app.addHook('preSerialization', async (request, _reply, payload) => {
    if (request.method === 'POST' && request.auth && payload !== null && typeof payload === 'object') {
      const id = asResourceId((payload as { id?: unknown }).id);
      if (id !== null) createdIds.set(request, id);
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const auth = request.auth as FastifyRequest['auth'] | null;
    const url = request.routeOptions.url;
    if (!auth || url === undefined) return;
    const found = auditActionOf(request.method, url);
    if (!found) return;
    const action = refineAction(found.action, request.body);
    const resourceId =
      found.id === 'param' ? asResourceId((request.params as { id?: unknown } | null)?.id)
      : found.id === 'response' ? (createdIds.get(request) ?? null)
      : null;
    writer.record({
      tenantId: auth.tenantId,
      at: new Date(Date.now() - reply.elapsedTime),
      sub: auth.sub === null ? null : auth.sub.slice(0, SUB_MAX),
      action,
      resource: found.resource,
      resourceId,
      status: reply.statusCode,
      requestId: String(request.id),
    });
  });
}
