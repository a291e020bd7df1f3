// Which audit action a state-changing route is: method + route pattern -> action, resource and
// where the resource's id comes from. A readable table; a route not in it is still recorded,
// under a name derived from its path, so a new route is never silently left out.

/** Where a record's resource id is read: the `:id` param, the answer's `id`, or nowhere. */
export type IdSource = 'param' | 'response' | 'none';

export interface AuditAction {
  action: string;
  resource: string;
  id: IdSource;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// Keys are the method and the route pattern without its mount prefix (/v1/enrichment,
// /api/enrichment or /v1), so an alias maps like its original.
const ACTIONS: Record<string, AuditAction> = {
  'POST /jobs': { action: 'job.create', resource: 'job', id: 'response' },
  'POST /job': { action: 'job.create', resource: 'job', id: 'response' },
  'PUT /jobs/:id': { action: 'job.update', resource: 'job', id: 'param' },
  'PATCH /jobs/:id': { action: 'job.update', resource: 'job', id: 'param' },
  'DELETE /jobs/:id': { action: 'job.cancel', resource: 'job', id: 'param' },
  'POST /jobs/:id/retry': { action: 'job.retry', resource: 'job', id: 'param' },
  // the bulk action's name (cancel or retry) is appended by bulkAction below
  'POST /jobs/bulk': { action: 'job.bulk', resource: 'job', id: 'none' },
  'POST /webhook': { action: 'job.report', resource: 'job', id: 'response' },
  'POST /plans': { action: 'plan.create', resource: 'plan', id: 'response' },
  'POST /lists': { action: 'list.create', resource: 'list', id: 'response' },
  'POST /exports': { action: 'export.create', resource: 'export', id: 'response' },
  'POST /webhooks/endpoints': { action: 'webhook_endpoint.create', resource: 'webhook_endpoint', id: 'response' },
  'DELETE /webhooks/endpoints/:id': { action: 'webhook_endpoint.delete', resource: 'webhook_endpoint', id: 'param' },
  'POST /webhooks/secret/rotate': { action: 'webhook_secret.rotate', resource: 'webhook_secret', id: 'none' },
  'POST /privacy/erasures': { action: 'erasure.create', resource: 'erasure', id: 'response' },
  'PUT /retention': { action: 'retention.update', resource: 'retention', id: 'none' },
};

const MOUNTS = ['/v1/enrichment', '/api/enrichment', '/v1'];

/** The route pattern without its mount prefix. */
export function routePath(url: string): string {
  for (const m of MOUNTS) if (url.startsWith(`${m}/`)) return url.slice(m.length);
  return url;
}

/** A route's audit action, or null when the call changes nothing (GET, HEAD, OPTIONS). */
export function auditActionOf(method: string, routeUrl: string): AuditAction | null {
  if (!STATE_CHANGING.has(method)) return null;
  const path = routePath(routeUrl);
  const known = ACTIONS[`${method} ${path}`];
  if (known) return known;
  // Unknown: the first path segment names the resource, the method the verb.
  const segments = path.split('/').filter((s) => s !== '' && !s.startsWith(':'));
  const resource = (segments[0] ?? 'api').replace(/s$/, '').replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  const verb = method === 'DELETE' ? 'delete' : method === 'POST' ? (segments.length > 1 ? segments.slice(1).join('_') : 'create') : 'update';
  return { action: `${resource}.${verb.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`, resource, id: path.includes(':id') ? 'param' : 'response' };
}

// Job types whose submission is a governance act of its own in the trail (admin calls).
const GOVERNANCE_JOB_ACTIONS: Record<string, string> = {
  tenant_cleanup: 'tenant.cleanup',
  tenant_export: 'tenant.export',
};

/** The action of a call, refined by an allow-listed word of its body: a bulk action, or a governance job type. */
export function refineAction(action: string, body: unknown): string {
  if (action === 'job.bulk') return bulkAction(body);
  if (action === 'job.create') {
    const type = (body as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && Object.hasOwn(GOVERNANCE_JOB_ACTIONS, type)) return GOVERNANCE_JOB_ACTIONS[type]!;
  }
  return action;
}

/** job.bulk_cancel or job.bulk_retry: the bulk body's action is an allow-listed word, never data. */
export function bulkAction(body: unknown): string {
  const action = (body as { action?: unknown } | null)?.action;
  return action === 'cancel' || action === 'retry' ? `job.bulk_${action}` : 'job.bulk';
}

// Resource ids are UUIDs or integers in this API; anything else is not recorded.
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The value as a resource id, or null when it is not id-shaped. */
export function asResourceId(value: unknown): string | null {
  return typeof value === 'string' && ID.test(value) ? value.toLowerCase() : typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : null;
}
