// A tenant's own retention (tenant_retention): read and changed inside withTenant, so row-level
// security keeps each tenant to its row. Only jobs, deliveries and exports can be shortened;
// audit records and provider calls are the operator's records and keep the deployment's days.
import type { RetentionConfig } from '../config.js';
import type { Tx } from '../db/transaction.js';

/** The kinds a tenant may shorten, as the API names them. */
export const TENANT_KINDS = ['jobsDays', 'deliveriesDays', 'exportsDays'] as const;
export type TenantKind = (typeof TENANT_KINDS)[number];

/** A tenant's own values: null where it keeps the deployment's. */
export type TenantOverrides = Record<TenantKind, number | null>;

/** A change: an absent kind stays as it is, null clears the tenant's value. */
export type TenantRetentionChange = Partial<Record<TenantKind, number | null>>;

/** What GET /v1/retention answers. */
export interface RetentionView {
  /** days in force for the tenant (its own value, capped by the deployment's) */
  effective: Record<TenantKind | 'auditDays' | 'providerCallsDays', number>;
  overrides: TenantOverrides;
  deployment: Record<TenantKind | 'auditDays' | 'providerCallsDays', number>;
  updatedAt: string | null;
}

interface Row {
  jobs_days: number | null;
  deliveries_days: number | null;
  exports_days: number | null;
  updated_at: Date;
}

const SELECT = 'SELECT jobs_days, deliveries_days, exports_days, updated_at FROM tenant_retention WHERE tenant_id = $1::uuid';

// One statement, so two changes racing on a tenant's first row cannot undo each other's
// kinds: $2..$4 the values, $5..$7 whether each kind is being changed at all.
const UPSERT = `
INSERT INTO tenant_retention (tenant_id, jobs_days, deliveries_days, exports_days, updated_at)
VALUES ($1::uuid, $2::int, $3::int, $4::int, now())
ON CONFLICT (tenant_id) DO UPDATE SET
  jobs_days = CASE WHEN $5::boolean THEN EXCLUDED.jobs_days ELSE tenant_retention.jobs_days END,
  deliveries_days = CASE WHEN $6::boolean THEN EXCLUDED.deliveries_days ELSE tenant_retention.deliveries_days END,
  exports_days = CASE WHEN $7::boolean THEN EXCLUDED.exports_days ELSE tenant_retention.exports_days END,
  updated_at = now()
RETURNING jobs_days, deliveries_days, exports_days, updated_at`;

/** The deployment's days per kind, as the API names them. */
export function deploymentDays(r: Pick<RetentionConfig, 'jobsDays' | 'deliveriesDays' | 'exportsDays' | 'auditDays' | 'providerCallsDays'>): RetentionView['deployment'] {
  return { jobsDays: r.jobsDays, deliveriesDays: r.deliveriesDays, exportsDays: r.exportsDays, auditDays: r.auditDays, providerCallsDays: r.providerCallsDays };
}

function view(row: Row | undefined, deployment: RetentionView['deployment']): RetentionView {
  const overrides: TenantOverrides = { jobsDays: row?.jobs_days ?? null, deliveriesDays: row?.deliveries_days ?? null, exportsDays: row?.exports_days ?? null };
  // The sweep takes the smaller of the two (src/retention/sql.ts): so does what the tenant is shown.
  const own = (k: TenantKind) => Math.min(overrides[k] ?? deployment[k], deployment[k]);
  return {
    effective: { jobsDays: own('jobsDays'), deliveriesDays: own('deliveriesDays'), exportsDays: own('exportsDays'), auditDays: deployment.auditDays, providerCallsDays: deployment.providerCallsDays },
    overrides,
    deployment,
    updatedAt: row ? row.updated_at.toISOString() : null,
  };
}

/** The tenant's retention as it stands. */
export async function readTenantRetention(tx: Tx, tenantId: string, deployment: RetentionView['deployment']): Promise<RetentionView> {
  const { rows } = await tx.query<Row>(SELECT, [tenantId]);
  return view(rows[0], deployment);
}

/** Applies a (validated) change and returns the tenant's retention after it. */
export async function changeTenantRetention(tx: Tx, tenantId: string, change: TenantRetentionChange, deployment: RetentionView['deployment']): Promise<RetentionView> {
  const given = TENANT_KINDS.map((k) => change[k] !== undefined);
  const values = TENANT_KINDS.map((k) => change[k] ?? null);
  const { rows } = await tx.query<Row>(UPSERT, [tenantId, ...values, ...given]);
  return view(rows[0], deployment);
}
