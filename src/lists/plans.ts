// SQL for enrichment plans: create, page, read. Every call runs in a tenant transaction.
import type { Tx } from '../db/transaction.js';
import { type PlanStep, planStepsSchema } from '../enrich/plan.js';
import { type CreatedKey, encodeCreatedCursor } from './cursor.js';
import { type Page, pageOf } from './repository.js';

/** A plan as clients see it. */
export interface Plan {
  id: string;
  name: string;
  steps: PlanStep[];
  errorThreshold: number;
  createdAt: string;
}

/** A plan as the list_enrichment runner needs it. */
export interface PlanForRun {
  id: string;
  name: string;
  steps: PlanStep[];
  errorThreshold: number;
}

interface PlanRow {
  id: string;
  name: string;
  steps: unknown;
  error_threshold: number;
  created_at: Date;
  micros: string;
}

// Stored steps were validated on the way in; parsing again fills option defaults added since.
const toPlan = (r: PlanRow): Plan => ({
  id: r.id,
  name: r.name,
  steps: planStepsSchema.parse(r.steps),
  errorThreshold: Number(r.error_threshold),
  createdAt: r.created_at.toISOString(),
});

const PLAN_COLUMNS = `id, name, steps, error_threshold, created_at,
  (extract(epoch FROM created_at) * 1000000)::bigint::text AS micros`;

const INSERT_PLAN = `
INSERT INTO enrichment_plans (tenant_id, name, steps, error_threshold)
VALUES ($1::uuid, $2::text, $3::jsonb, $4::numeric)
RETURNING ${PLAN_COLUMNS}`;

/** Records a validated plan for the tenant. */
export async function insertPlan(tx: Tx, tenantId: string, plan: { name: string; steps: PlanStep[]; errorThreshold: number }): Promise<Plan> {
  const { rows } = await tx.query<PlanRow>(INSERT_PLAN, [tenantId, plan.name, JSON.stringify(plan.steps), plan.errorThreshold]);
  return toPlan(rows[0]!);
}

/** One plan of the current tenant, as clients see it, or null. */
export async function readPlan(tx: Tx, id: string): Promise<Plan | null> {
  const { rows } = await tx.query<PlanRow>(`SELECT ${PLAN_COLUMNS} FROM enrichment_plans WHERE id = $1::uuid`, [id]);
  return rows[0] ? toPlan(rows[0]) : null;
}

/** One plan with its steps parsed (planStepsSchema), for the list_enrichment runner; null if absent or not visible. */
export async function getPlan(tx: Tx, id: string): Promise<PlanForRun | null> {
  const plan = await readPlan(tx, id);
  return plan ? { id: plan.id, name: plan.name, steps: plan.steps, errorThreshold: plan.errorThreshold } : null;
}

const PLAN_PAGE = `
SELECT ${PLAN_COLUMNS}
FROM enrichment_plans
WHERE tenant_id = $1::uuid
  AND ($2::bigint IS NULL OR (created_at, id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::uuid))
ORDER BY created_at DESC, id DESC
LIMIT $4::int`;

/** A page of the tenant's plans, newest first. */
export async function listPlans(tx: Tx, tenantId: string, limit: number, after: CreatedKey | null): Promise<Page<Plan>> {
  const { rows } = await tx.query<PlanRow>(PLAN_PAGE, [tenantId, after?.micros ?? null, after?.id ?? null, limit + 1]);
  return pageOf(rows, limit, toPlan, (r) => encodeCreatedCursor({ micros: r.micros, id: r.id }));
}
