// Reads a tenant's audit trail, newest first, keyset-paged on (at, id).
import { z } from 'zod';
import type { Tx } from '../db/transaction.js';
import { AppError } from '../errors.js';

/** One record as clients see it. */
export interface AuditItem {
  at: string;
  sub: string | null;
  action: string;
  resource: string;
  resourceId: string | null;
  status: number;
  requestId: string;
}

export interface AuditFilter {
  from: Date | null;
  to: Date | null;
  action: string | null;
}

/** A position in the listing: `at` in microseconds since the epoch, and the id breaking ties. */
export interface AuditKey {
  micros: string;
  id: string;
}

interface AuditRow {
  id: string;
  micros: string;
  at: Date;
  sub: string | null;
  action: string;
  resource: string;
  resource_id: string | null;
  status: number;
  request_id: string;
}

// The tenant predicate repeats what row-level security enforces, so audit_log_tenant_at_idx serves the order.
const PAGE = `
SELECT id::text AS id, (extract(epoch FROM at) * 1000000)::bigint::text AS micros,
       at, sub, action, resource, resource_id, status, request_id
FROM audit_log
WHERE tenant_id = $1::uuid
  AND ($2::timestamptz IS NULL OR at >= $2::timestamptz)
  AND ($3::timestamptz IS NULL OR at < $3::timestamptz)
  AND ($4::text IS NULL OR action = $4::text)
  AND ($5::bigint IS NULL OR (at, id) < ('epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6::bigint))
ORDER BY at DESC, id DESC
LIMIT $7::int`;

/** A page of the current tenant's trail, newest first. */
export async function listAudit(tx: Tx, tenantId: string, filter: AuditFilter, limit: number, after: AuditKey | null): Promise<{ items: AuditItem[]; nextCursor: string | null }> {
  const { rows } = await tx.query<AuditRow>(PAGE, [tenantId, filter.from, filter.to, filter.action, after?.micros ?? null, after?.id ?? null, limit + 1]);
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return {
    items: kept.map((r) => ({
      at: r.at.toISOString(),
      sub: r.sub,
      action: r.action,
      resource: r.resource,
      resourceId: r.resource_id,
      status: r.status,
      requestId: r.request_id,
    })),
    nextCursor: more && last !== undefined ? encodeAuditCursor({ micros: last.micros, id: last.id }) : null,
  };
}

const auditKey = z.tuple([z.string().regex(/^-?\d{1,20}$/), z.string().regex(/^\d{1,19}$/)]);

/** The cursor after a record. */
export function encodeAuditCursor(key: AuditKey): string {
  return Buffer.from(JSON.stringify([key.micros, key.id])).toString('base64url');
}

/** Reads a cursor; a 400 naming `cursor` when it is not one of ours. */
export function decodeAuditCursor(cursor: string): AuditKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = auditKey.safeParse(parsed);
  if (!result.success) throw new AppError('validation_error', 'The cursor is not one this API gave out.', [{ path: 'cursor', message: 'is not a valid cursor' }]);
  return { micros: result.data[0], id: result.data[1] };
}
