// Handlers of jobs over items in their payload: leads, emails, domains. They run the same step
// code as list jobs (src/enrich), so an entry enriched either way gets the same result.
import type { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { column, type Entry } from '../../enrich/entry.js';
import { type EntryEnrichment, type PlanStep, countOutcomes, enrichEntries } from '../../enrich/plan.js';
import { getPlan } from '../../lists/plans.js';
import { WRITE_RESULTS } from '../chunks/sql.js';
import { companyDomain } from '../../enrich/steps/company-domain.js';
import { validateEmail } from '../../enrich/steps/email-validation.js';
import type { ProviderStepResult, ProviderWant } from '../../enrich/steps/provider-step.js';
import type { companyDataUpdatePayload, emailValidationPayload, socialProfileDiscoveryPayload } from '../../jobs/types/items.js';
import type { batchLeadPayload, singleLeadPayload } from '../../jobs/types/leads.js';
import { lookupInputOf } from '../../providers/cache/key.js';
import type { LookupContext, LookupService } from '../../providers/lookup.js';
import { mapBounded, untilAnswered } from '../../providers/lookup-wait.js';
import { type JobContext, type JobHandler, ItemsOutcome, PermanentJobError } from './handler.js';

type EnrichmentType = 'email' | 'company' | 'social' | 'phone';

// The older clients' enrichmentTypes as local steps; the provider half is a lookup (below).
const LOCAL_STEP_OF: Record<EnrichmentType, PlanStep | null> = {
  email: { type: 'email_validation', options: {} },
  phone: { type: 'phone_normalization', options: {} },
  company: { type: 'company_domain', options: {} },
  social: null,
};

/**
 * The provider lookups of the older enrichmentTypes (CONTRACT.md): `email` when the lead has
 * none, `company` and `social` always, `phone` when a providerId is named. `social` is reported
 * as provider_not_configured when no provider can answer; the others then keep to local steps.
 */
function lookupsForTypes(types: EnrichmentType[], lead: Entry, providerId: string | undefined): EnrichmentType[] {
  return [...new Set(types)].filter((t) => t === 'social' || t === 'company' || (t === 'email' && column(lead, 'email') === null) || (t === 'phone' && providerId !== undefined));
}

function localSteps(types: EnrichmentType[]): PlanStep[] {
  return [...new Set(types)].map((t) => LOCAL_STEP_OF[t]).filter((s): s is PlanStep => s !== null);
}

/** Provider lookups of a job's items in flight at once. */
const ITEM_LOOKUP_CONCURRENCY = 16;

/** What a job needs to run provider lookups. */
interface LookupDeps {
  lookups: LookupService | undefined;
}

/** The provider lookups of one lead of an older-form job, keyed by enrichment type. */
async function typeLookups(
  deps: LookupDeps,
  types: EnrichmentType[],
  lead: Entry,
  providerId: string | undefined,
  ctx: LookupContext,
  maxCredits: number | undefined,
): Promise<Record<string, ProviderStepResult | { skipped: 'provider_not_configured' }>> {
  const out: Record<string, ProviderStepResult | { skipped: 'provider_not_configured' }> = {};
  for (const t of lookupsForTypes(types, lead, providerId)) {
    const want: ProviderWant = t;
    const names = deps.lookups?.answering(want, providerId === undefined ? undefined : [providerId]) ?? [];
    if (names.length === 0) {
      if (t === 'social') out[t] = { skipped: 'provider_not_configured' };
      continue;
    }
    out[t] = await untilAnswered(() => deps.lookups!.waterfall(names, want, lookupInputOf(lead, want), ctx, { maxCredits }), ctx.signal);
  }
  return out;
}

/** Runs steps over leads; provider steps wait out deferrals inside the attempt. */
function runSteps(deps: LookupDeps, steps: readonly PlanStep[], leads: readonly Entry[], ctx: JobContext, entryKeys?: readonly string[]): Promise<EntryEnrichment[]> {
  const lookups = deps.lookups;
  const tenantId = ctx.job.tenant_id;
  return untilAnswered(
    () =>
      enrichEntries(steps, leads, {
        provider: lookups && ((step, entry, i) => lookups.runStep(step, entry, { tenantId, jobId: ctx.job.id, entryKey: entryKeys?.[i] ?? String(i), signal: ctx.signal })),
      }),
    ctx.signal,
  );
}

async function planSteps(pool: Pool, appRole: string, tenantId: string, planId: string): Promise<PlanStep[]> {
  const plan = await withTenant(pool, appRole, tenantId, (tx) => getPlan(tx, planId));
  if (!plan) throw new PermanentJobError(`plan ${planId} no longer exists`, 'plan_not_found');
  return plan.steps;
}

/** One lead's enrichment as a job returns it, with the older form's lookups by enrichment type. */
function leadResult(e: EntryEnrichment, looked: Record<string, unknown> = {}): Record<string, unknown> {
  return { enrichment: { ...e.results, ...looked }, errors: e.errors };
}

/** single_lead_enrichment: a plan's steps over one lead. */
export function singleLeadHandler(pool: Pool, appRole: string, deps: LookupDeps = { lookups: undefined }): JobHandler {
  return async (ctx: JobContext) => {
    const p = ctx.payload as z.infer<typeof singleLeadPayload>;
    if ('enrichmentTypes' in p) {
      const [e] = await runSteps(deps, localSteps(p.enrichmentTypes), [p.inputData], ctx);
      const looked = await typeLookups(deps, p.enrichmentTypes, p.inputData, p.providerId, lookupCtx(ctx, '0'), p.maxCredits);
      const failed = e!.errors === null ? 0 : 1;
      return new ItemsOutcome({ leadId: p.leadId, ...leadResult(e!, looked) }, { total: 1, processed: 1, succeeded: 1 - failed, failed });
    }
    const steps = p.steps ?? (await planSteps(pool, appRole, ctx.job.tenant_id, p.planId!));
    const [e] = await runSteps(deps, steps, [p.lead], ctx);
    const failed = e!.errors === null ? 0 : 1;
    return new ItemsOutcome(leadResult(e!), { total: 1, processed: 1, succeeded: 1 - failed, failed });
  };
}

function lookupCtx(ctx: JobContext, entryKey: string): LookupContext {
  return { tenantId: ctx.job.tenant_id, jobId: ctx.job.id, entryKey, signal: ctx.signal };
}

const ENTRIES_BY_ID = 'SELECT id::text AS id, list_id, data FROM list_entries WHERE id = ANY ($1::bigint[])';

/** batch_lead_enrichment: a plan's steps over up to 1,000 leads, inline or by entry id. */
export function batchLeadHandler(pool: Pool, appRole: string, deps: LookupDeps = { lookups: undefined }): JobHandler {
  return async (ctx: JobContext) => {
    const p = ctx.payload as z.infer<typeof batchLeadPayload>;
    const tenantId = ctx.job.tenant_id;
    if ('enrichmentTypes' in p) {
      const leads = p.leadIds.map((id) => p.inputData[id] ?? {});
      const all = await runSteps(deps, localSteps(p.enrichmentTypes), leads, ctx, p.leadIds);
      const items = await mapBounded(p.leadIds, ITEM_LOOKUP_CONCURRENCY, async (id, i) => ({
        leadId: id,
        ...leadResult(all[i]!, await typeLookups(deps, p.enrichmentTypes, leads[i]!, p.providerId, lookupCtx(ctx, id), p.maxCredits)),
      }));
      return itemsOutcome(items, all);
    }
    const steps = p.steps ?? (await planSteps(pool, appRole, tenantId, p.planId!));
    if (p.leads) {
      const all = await runSteps(deps, steps, p.leads, ctx);
      return itemsOutcome(all.map((e, i) => ({ index: i, ...leadResult(e) })), all);
    }
    const ids = p.leadIds!;
    // Lookups first (they may wait), then the results in one short transaction.
    const { rows } = await withTenant(pool, appRole, tenantId, (tx) => tx.query<{ id: string; list_id: string; data: Entry }>(ENTRIES_BY_ID, [ids]));
    const all = await runSteps(deps, steps, rows.map((r) => r.data), ctx, rows.map((r) => r.id));
    return withTenant(pool, appRole, tenantId, async (tx) => {
      const found = rows.map((r, i) => ({ r, e: all[i]! }));
      // Leads given by entry id keep their results on the entry, as a list job's would.
      const written = found.map((f) => ({ e: f.r.id, l: f.r.list_id, r: f.e.results, o: f.e.outcomes, x: f.e.errors }));
      await tx.query(WRITE_RESULTS, [ctx.job.id, tenantId, null, JSON.stringify(written)]);
      const enriched = new Map(found.map((f) => [f.r.id, f.e]));
      const items = ids.map((id) => {
        const e = enriched.get(id);
        return e ? { leadId: id, ...leadResult(e) } : { leadId: id, enrichment: {}, errors: { lead: 'no entry with this id' } };
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

/**
 * company_data_update: the registrable domain of each domain or URL in the payload and, where
 * company providers are configured, what they answer about it (`provider`, a waterfall).
 */
export function companyDataUpdateHandler(deps: LookupDeps = { lookups: undefined }): JobHandler {
  return async (ctx: JobContext) => {
    const p = ctx.payload as z.infer<typeof companyDataUpdatePayload>;
    const items: Record<string, unknown>[] = p.domains.map((input) => ({ input, ...(companyDomain({ domain: input }) ?? { domain: null, freeMail: false }) }));
    const names = deps.lookups?.answering('company', p.providers) ?? [];
    const lookups = deps.lookups;
    if (lookups && names.length > 0) {
      await mapBounded(items, ITEM_LOOKUP_CONCURRENCY, async (item, i) => {
        if (item.domain === null) return;
        const input = { want: 'company' as const, domain: item.domain as string };
        item.provider = await untilAnswered(() => lookups.waterfall(names, 'company', input, lookupCtx(ctx, String(i)), { maxCredits: p.maxCredits }), ctx.signal);
      });
    }
    const found = items.filter((i) => i.domain !== null).length;
    const answered = items.filter((i) => (i.provider as ProviderStepResult | undefined)?.answeredBy).length;
    const budget = items.filter((i) => (i.provider as ProviderStepResult | undefined)?.stopped === 'budget_exhausted').length;
    const counts = { found, notFound: items.length - found, ...(names.length > 0 ? { answered, ...(budget > 0 ? { budgetExhausted: budget } : {}) } : {}) };
    return new ItemsOutcome({ items, counts }, { total: items.length, processed: items.length, succeeded: items.length, failed: 0 });
  };
}

/** social_profile_discovery: the lead's social profile from the providers; fails when none can answer. */
export function socialProfileDiscoveryHandler(deps: LookupDeps = { lookups: undefined }): JobHandler {
  return async (ctx: JobContext) => {
    const p = ctx.payload as z.infer<typeof socialProfileDiscoveryPayload>;
    const names = deps.lookups?.answering('social', p.providers) ?? [];
    if (!deps.lookups || names.length === 0) {
      throw new PermanentJobError('no configured provider can find social profiles (set a key such as PDL_API_KEY or APOLLO_API_KEY)', 'provider_not_configured');
    }
    const lookups = deps.lookups;
    const r = await untilAnswered(() => lookups.waterfall(names, 'social', lookupInputOf(p.lead, 'social'), lookupCtx(ctx, '0'), { maxCredits: p.maxCredits }), ctx.signal);
    if (r.stopped === 'provider_not_configured') throw new PermanentJobError('no configured provider can find social profiles', 'provider_not_configured');
    return r;
  };
}
