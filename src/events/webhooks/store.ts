// The webhooks API's statements, inside withTenant (row-level security binds every one).
import type { Tx } from '../../db/transaction.js';
import { type CreatedKey, encodeCreatedCursor } from '../../lists/cursor.js';
import { generateWebhookSecret } from './signing.js';

/** The event types a tenant endpoint may subscribe to (job.created is not delivered). */
export const WEBHOOK_EVENT_TYPES = ['job.started', 'job.progress', 'job.completed', 'job.failed', 'job.cancelled', 'job.retrying'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface Endpoint {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  createdAt: string;
}

interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  created_at: Date;
  secret: string;
}

const toEndpoint = (r: EndpointRow): Endpoint => ({ id: r.id, url: r.url, events: r.events, enabled: r.enabled, createdAt: r.created_at.toISOString() });

const INSERT_ENDPOINT = `
INSERT INTO webhook_endpoints (tenant_id, url, secret, events)
VALUES ($1::uuid, $2::text, $3::text, $4::text[])
RETURNING id, url, events, enabled, created_at, secret`;

/** Registers an endpoint; the only time its secret is returned. */
export async function createEndpoint(tx: Tx, tenantId: string, url: string, events: readonly string[]): Promise<Endpoint & { secret: string }> {
  const { rows } = await tx.query<EndpointRow>(INSERT_ENDPOINT, [tenantId, url, generateWebhookSecret(), events]);
  const row = rows[0]!;
  return { ...toEndpoint(row), secret: row.secret };
}

/** The tenant's live endpoints, newest first, without secrets. */
export async function listEndpoints(tx: Tx): Promise<Endpoint[]> {
  const { rows } = await tx.query<EndpointRow>(
    'SELECT id, url, events, enabled, created_at, secret FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC',
  );
  return rows.map(toEndpoint);
}

// Kept (disabled) for its deliveries' history; its pending deliveries end as failed.
const DELETE_ENDPOINT = `
WITH del AS (
  UPDATE webhook_endpoints SET deleted_at = now(), enabled = false
  WHERE id = $1::uuid AND deleted_at IS NULL
  RETURNING id, url, events, enabled, created_at, secret
), stop AS (
  UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint deleted'
  WHERE endpoint_id IN (SELECT id FROM del) AND status = 'pending'
)
SELECT * FROM del`;

/** Deletes an endpoint; null when the tenant has no such endpoint. */
export async function deleteEndpoint(tx: Tx, id: string): Promise<Endpoint | null> {
  const { rows } = await tx.query<EndpointRow>(DELETE_ENDPOINT, [id]);
  return rows[0] ? toEndpoint(rows[0]) : null;
}

/** The tenant's default secret (signing deliveries to jobs' own webhookUrl), made on first use. */
export async function tenantSecret(tx: Tx, tenantId: string): Promise<string> {
  await tx.query('INSERT INTO tenant_webhook_secrets (tenant_id, secret) VALUES ($1::uuid, $2::text) ON CONFLICT (tenant_id) DO NOTHING', [tenantId, generateWebhookSecret()]);
  const { rows } = await tx.query<{ secret: string }>('SELECT secret FROM tenant_webhook_secrets WHERE tenant_id = $1::uuid', [tenantId]);
  return rows[0]!.secret;
}

// The old secret keeps signing (beside the new one) for 24 h, so receivers can switch over.
const ROTATE = `
INSERT INTO tenant_webhook_secrets (tenant_id, secret) VALUES ($1::uuid, $2::text)
ON CONFLICT (tenant_id) DO UPDATE SET
  previous_secret = tenant_webhook_secrets.secret,
  previous_expires_at = now() + interval '24 hours',
  secret = EXCLUDED.secret,
  created_at = now()
RETURNING secret`;

/** Replaces the tenant's default secret; returns the new one. */
export async function rotateTenantSecret(tx: Tx, tenantId: string): Promise<string> {
  const { rows } = await tx.query<{ secret: string }>(ROTATE, [tenantId, generateWebhookSecret()]);
  return rows[0]!.secret;
}

export interface DeliveryAttempt {
  at: string;
  statusCode: number | null;
  durationMs: number;
  error?: string;
}

export interface Delivery {
  id: string;
  jobId: string;
  endpointId: string | null;
  url: string;
  event: string;
  status: 'pending' | 'delivered' | 'failed';
  attemptCount: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  attempts?: DeliveryAttempt[];
}

interface DeliveryRow {
  id: string;
  job_id: string;
  endpoint_id: string | null;
  url: string;
  event_type: string;
  status: Delivery['status'];
  attempts: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
  micros: string;
  attempt_list?: { at: string; status_code: number | null; duration_ms: number; error: string | null }[];
}

const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id,
  jobId: r.job_id,
  endpointId: r.endpoint_id,
  url: r.url,
  event: r.event_type,
  status: r.status,
  attemptCount: r.attempts,
  nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  createdAt: r.created_at.toISOString(),
  deliveredAt: r.delivered_at?.toISOString() ?? null,
  ...(r.attempt_list
    ? {
        attempts: r.attempt_list.map((a) => ({
          at: new Date(a.at).toISOString(),
          statusCode: a.status_code,
          durationMs: a.duration_ms,
          ...(a.error !== null ? { error: a.error } : {}),
        })),
      }
    : {}),
});

const DELIVERY_COLUMNS = `d.id, d.job_id, d.endpoint_id, d.url, d.event_type, d.status, d.attempts, d.next_attempt_at,
  d.last_status_code, d.last_error, d.created_at, d.delivered_at,
  (extract(epoch FROM d.created_at) * 1000000)::bigint::text AS micros`;

const ATTEMPTS = `(
  SELECT coalesce(jsonb_agg(jsonb_build_object('at', a.at, 'status_code', a.status_code, 'duration_ms', a.duration_ms, 'error', a.error) ORDER BY a.id), '[]')
  FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id
) AS attempt_list`;

export interface DeliveryFilter {
  jobId?: string;
  status?: Delivery['status'];
  limit: number;
  after: CreatedKey | null;
}

/** A page of the tenant's deliveries, newest first, keyset on (created_at, id). */
export async function listDeliveries(tx: Tx, f: DeliveryFilter): Promise<{ items: Delivery[]; nextCursor: string | null }> {
  const { rows } = await tx.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS}
FROM webhook_deliveries d
WHERE ($1::uuid IS NULL OR d.job_id = $1::uuid)
  AND ($2::text IS NULL OR d.status = $2::text)
  AND ($3::bigint IS NULL OR (d.created_at, d.id) < ('epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4::uuid))
ORDER BY d.created_at DESC, d.id DESC
LIMIT $5::int`,
    [f.jobId ?? null, f.status ?? null, f.after?.micros ?? null, f.after?.id ?? null, f.limit + 1],
  );
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return { items: page.map(toDelivery), nextCursor: rows.length > f.limit && last ? encodeCreatedCursor({ micros: last.micros, id: last.id }) : null };
}

/** One delivery with every attempt; null when the tenant has no such delivery. */
export async function readDelivery(tx: Tx, id: string): Promise<Delivery | null> {
  const { rows } = await tx.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS}, ${ATTEMPTS} FROM webhook_deliveries d WHERE d.id = $1::uuid`, [id]);
  return rows[0] ? toDelivery(rows[0]) : null;
}

/** Every delivery of one job's events, oldest first, with their attempts. */
export async function jobDeliveries(tx: Tx, jobId: string): Promise<Delivery[]> {
  const { rows } = await tx.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS}, ${ATTEMPTS} FROM webhook_deliveries d WHERE d.job_id = $1::uuid ORDER BY d.created_at, d.id`,
    [jobId],
  );
  return rows.map(toDelivery);
}
