// Handlers of jobs over items in their payload: leads, emails, domains. They run the same step
// code as list jobs (src/enrich), so an entry enriched either way gets the same result.
import type { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import type { Entry } from '../../enrich/entry.js';
import { type EntryEnrichment, type PlanStep, countOutcomes, enrichEntry } from '../../enrich/plan.js';
import { getPlan } from '../../lists/plans.js';
import { WRITE_RESULTS } from '../chunks/sql.js';
import { companyDomain } from '../../enrich/steps/company-domain.js';
import { validateEmail } from '../../enrich/steps/email-validation.js';
import type { companyDataUpdatePayload, emailValidationPayload } from '../../jobs/types/items.js';
import type { batchLeadPayload, singleLeadPayload } from '../../jobs/types/leads.js';
import { type JobContext, type JobHandler, ItemsOutcome, PermanentJobError } from './handler.js';

type EnrichmentType = 'email' | 'company' | 'social' | 'phone';

// The older clients' enrichmentTypes as local steps. `social` (and the provider half of the
// others) needs a provider: until one is configured it is reported, not silently dropped.
const LOCAL_STEP_OF: Record<EnrichmentType, PlanStep | null> = {
  email: { type: 'email_validation', options: {} },
  phone: { type: 'phone_normalization', options: {} },
  company: { type: 'company_domain', options: {} },
  social: null,
};

function stepsForTypes(types: EnrichmentType[]): { steps: PlanStep[]; unavailable: EnrichmentType[] } {
  const steps: PlanStep[] = [];
  const unavailable: EnrichmentType[] = [];
  for (const t of new Set(types)) {
    const step = LOCAL_STEP_OF[t];
    if (step) steps.push(step);
    else unavailable.push(t);
  }
  return { steps, unavailable };
}

async function planSteps(pool: Pool, appRole: string, tenantId: string, planId: string): Promise<PlanStep[]> {
  const plan = await withTenant(pool, appRole, tenantId, (tx) => getPlan(tx, planId));
  if (!plan) throw new PermanentJobError(`plan ${planId} no longer exists`, 'plan_not_found');
  return plan.steps;
}

/** One lead's enrichment as a job returns it. */
function leadResult(e: EntryEnrichment, unavailable: EnrichmentType[]): Record<string, unknown> {
  const enrichment: Record<string, unknown> = { ...e.results };
  for (const t of unavailable) enrichment[t] = { skipped: 'provider_not_configured' };
  return { enrichment, errors: e.errors };
}

/** single_lead_enrichment: a plan's steps over one lead. */
export function singleLeadHandler(pool: Pool, appRole: string): JobHandler {
  return async (ctx: JobContext) => {
    const p = ctx.payload as z.infer<typeof singleLeadPayload>;
    let steps: PlanStep[];
    let unavailable: EnrichmentType[] = [];
    let lead: Entry;
    if ('enrichmentTypes' in p) {
      ({ steps, unavailable } = stepsForTypes(p.enrichmentTypes));
      lead = p.inputData;
    } else {
      steps = p.steps ?? (await planSteps(pool, appRole, ctx.job.tenant_id, p.planId!));
      lead = p.lead;
    }
    const e = enrichEntry(steps, lead);
    const failed = e.errors === null ? 0 : 1;
    return new ItemsOutcome({ ...('leadId' in p ? { leadId: p.leadId } : {}), ...leadResult(e, unavailable) }, { total: 1, processed: 1, succeeded: 1 - failed, failed });
  };
}

const ENTRIES_BY_ID = 'SELECT id::text AS id, list_id, data FROM list_entries WHERE id = ANY ($1::bigint[])';

/** batch_lead_enrichment: a plan's steps over up to 1,000 leads, inline or by entry id. */
export function batchLeadHandler(pool: Pool, appRole: string): JobHandler {
  return async (ctx: JobContext) => {
    const p = ctx.payload as z.infer<typeof batchLeadPayload>;
    const tenantId = ctx.job.tenant_id;
    if ('enrichmentTypes' in p) {
      const { steps, unavailable } = stepsForTypes(p.enrichmentTypes);
      const done = p.leadIds.map((id) => ({ id, e: enrichEntry(steps, p.inputData[id] ?? {}) }));
      return itemsOutcome(done.map(({ id, e }) => ({ leadId: id, ...leadResult(e, unavailable) })), done.map((d) => d.e));
    }
    const steps = p.steps ?? (await planSteps(pool, appRole, tenantId, p.planId!));
    if (p.leads) {
      const all = p.leads.map((lead) => enrichEntry(steps, lead));
      return itemsOutcome(all.map((e, i) => ({ index: i, ...leadResult(e, []) })), all);
    }
    const ids = p.leadIds!;
    return withTenant(pool, appRole, tenantId, async (tx) => {
      const { rows } = await tx.query<{ id: string; list_id: string; data: Entry }>(ENTRIES_BY_ID, [ids]);
      const found = rows.map((r) => ({ r, e: enrichEntry(steps, r.data) }));
      // Leads given by entry id keep their results on the entry, as a list job's would.
      const written = found.map((f) => ({ e: f.r.id, l: f.r.list_id, r: f.e.results, o: f.e.outcomes, x: f.e.errors }));
      await tx.query(WRITE_RESULTS, [ctx.job.id, tenantId, null, JSON.stringify(written)]);
      const enriched = new Map(found.map((f) => [f.r.id, f.e]));
      const items = ids.map((id) => {
        const e = enriched.get(id);
        return e ? { leadId: id, ...leadResult(e, []) } : { leadId: id, enrichment: {}, errors: { lead: 'no entry with this id' } };
      });
      // A lead id with no entry counts as failed: it is among the items but not among the enriched.
      return itemsOutcome(items, found.map((f) => f.e));
    });
  };
}

function itemsOutcome(items: Record<string, unknown>[], all: EntryEnrichment[]): ItemsOutcome {
  const failed = all.filter((e) => e.errors !== null).length;
  const succeeded = all.length - failed;
  return new ItemsOutcome({ items, summary: { leads: items.length, succeeded, failed: items.length - succeeded, steps: countOutcomes(all) } }, {
    total: items.length,
    processed: items.length,
    succeeded,
    failed: items.length - succeeded,
  });
}

/** email_validation: validates each email in the payload offline. */
export const emailValidationHandler: JobHandler = async (ctx: JobContext) => {
  const p = ctx.payload as z.infer<typeof emailValidationPayload>;
  const counts: Record<string, number> = {};
  const items = p.emails.map((email) => {
    const r = validateEmail({ email }) ?? { email, status: 'invalid' as const, syntax: false, disposable: false, role: false, freeMail: false, domain: null, reasons: ['syntax' as const] };
    counts[r.status] = (counts[r.status] ?? 0) + 1;
    return r;
  });
  return new ItemsOutcome({ items, counts }, { total: items.length, processed: items.length, succeeded: items.length, failed: 0 });
};

/** company_data_update: the registrable domain of each domain or URL in the payload. */
export const companyDataUpdateHandler: JobHandler = async (ctx: JobContext) => {
  const p = ctx.payload as z.infer<typeof companyDataUpdatePayload>;
  const items = p.domains.map((input) => ({ input, ...(companyDomain({ domain: input }) ?? { domain: null, freeMail: false }) }));
  const found = items.filter((i) => i.domain !== null).length;
  return new ItemsOutcome({ items, counts: { found, notFound: items.length - found } }, { total: items.length, processed: items.length, succeeded: items.length, failed: 0 });
};
