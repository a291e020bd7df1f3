// The delivery loop's statements, run as the system across tenants (a named leader duty).
import type { Pool } from '../../db/pool.js';
import { withSystem } from '../../db/transaction.js';
import { generateWebhookSecret } from './signing.js';

/** A claimed delivery with what signing it needs. */
export interface DueDelivery {
  id: string;
  tenantId: string;
  url: string;
  eventType: string;
  payload: Record<string, unknown>;
  attempts: number;
  createdAt: Date;
  /** the secrets that sign it (two during a default secret's rotation); empty: its endpoint is gone */
  secrets: string[];
}

// Claimed rows are leased (next_attempt_at pushed past the send's timeout) rather than held
// locked: no transaction stays open across an HTTP request, and a leader that dies mid-send
// leaves the delivery due again when the lease ends.
const CLAIM = `
WITH due AS (
  SELECT id FROM webhook_deliveries
  WHERE status = 'pending' AND next_attempt_at <= now()
  ORDER BY next_attempt_at
  LIMIT $1::int
  FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d SET next_attempt_at = now() + $2::int * interval '1 millisecond'
FROM due
WHERE d.id = due.id
RETURNING d.id, d.tenant_id, d.endpoint_id, d.url, d.event_type, d.payload, d.attempts, d.created_at`;

// The default secret is made on a tenant's first delivery to a job's own webhookUrl.
const ENSURE_TENANT_SECRETS = `
INSERT INTO tenant_webhook_secrets (tenant_id, secret)
SELECT * FROM unnest($1::uuid[], $2::text[])
ON CONFLICT (tenant_id) DO NOTHING`;

const TENANT_SECRETS = `
SELECT tenant_id, secret, CASE WHEN previous_expires_at > now() THEN previous_secret END AS previous
FROM tenant_webhook_secrets WHERE tenant_id = ANY($1::uuid[])`;

const ENDPOINT_SECRETS = `
SELECT id, secret FROM webhook_endpoints WHERE id = ANY($1::uuid[]) AND enabled AND deleted_at IS NULL`;

interface ClaimRow {
  id: string;
  tenant_id: string;
  endpoint_id: string | null;
  url: string;
  event_type: string;
  payload: Record<string, unknown>;
  attempts: number;
  created_at: Date;
}

/** Claims up to `limit` due deliveries for `leaseMs`, with their signing secrets. */
export async function claimDueDeliveries(pool: Pool, limit: number, leaseMs: number): Promise<DueDelivery[]> {
  if (limit <= 0) return [];
  return withSystem(pool, async (tx) => {
    const claimed = (await tx.query<ClaimRow>(CLAIM, [limit, leaseMs])).rows;
    if (claimed.length === 0) return [];
    const tenants = [...new Set(claimed.filter((c) => c.endpoint_id === null).map((c) => c.tenant_id))];
    const endpoints = [...new Set(claimed.flatMap((c) => (c.endpoint_id ? [c.endpoint_id] : [])))];
    const byTenant = new Map<string, string[]>();
    if (tenants.length > 0) {
      await tx.query(ENSURE_TENANT_SECRETS, [tenants, tenants.map(() => generateWebhookSecret())]);
      const { rows } = await tx.query<{ tenant_id: string; secret: string; previous: string | null }>(TENANT_SECRETS, [tenants]);
      for (const r of rows) byTenant.set(r.tenant_id, r.previous ? [r.secret, r.previous] : [r.secret]);
    }
    const byEndpoint = new Map<string, string>();
    if (endpoints.length > 0) {
      const { rows } = await tx.query<{ id: string; secret: string }>(ENDPOINT_SECRETS, [endpoints]);
      for (const r of rows) byEndpoint.set(r.id, r.secret);
    }
    return claimed.map((c) => {
      const endpointSecret = c.endpoint_id ? byEndpoint.get(c.endpoint_id) : undefined;
      return {
        id: c.id,
        tenantId: c.tenant_id,
        url: c.url,
        eventType: c.event_type,
        payload: c.payload,
        attempts: c.attempts,
        createdAt: c.created_at,
        secrets: c.endpoint_id ? (endpointSecret ? [endpointSecret] : []) : (byTenant.get(c.tenant_id) ?? []),
      };
    });
  });
}

/** How an attempt ends the delivery: delivered, failed for good, or pending until nextAt. */
export interface AttemptRecord {
  id: string;
  at: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  outcome: 'delivered' | 'failed' | 'pending';
  nextAt: Date | null;
  /** false when nothing was sent (the endpoint is gone): no attempt row */
  sent: boolean;
}

const RECORD = `
WITH upd AS (
  UPDATE webhook_deliveries SET
    attempts = attempts + CASE WHEN $8::boolean THEN 1 ELSE 0 END,
    status = $6::text,
    next_attempt_at = COALESCE($7::timestamptz, next_attempt_at),
    last_status_code = $3::int,
    last_error = $4::text,
    delivered_at = CASE WHEN $6::text = 'delivered' THEN now() END
  WHERE id = $1::uuid AND status = 'pending'
  RETURNING id, tenant_id
)
INSERT INTO webhook_delivery_attempts (delivery_id, tenant_id, at, status_code, error, duration_ms)
SELECT id, tenant_id, $2::timestamptz, $3::int, $4::text, $5::int FROM upd WHERE $8::boolean`;

/** Records one attempt and moves the delivery on, in one statement. */
export async function recordAttempt(pool: Pool, r: AttemptRecord): Promise<void> {
  await withSystem(pool, (tx) => tx.query(RECORD, [r.id, r.at, r.statusCode, r.error, r.durationMs, r.outcome, r.nextAt, r.sent]));
}
