// single_lead_enrichment and batch_lead_enrichment: a plan's steps over leads given inline or by entry id.
import { z } from 'zod';
import { planStepsSchema } from '../../enrich/plan.js';
import { jobType } from './job-type.js';

// A lead is an entry's columns: the client's own data, so keys the schema does not name stay.
const lead = z.looseObject({}).describe('entry columns (first_name, last_name, email, phone, company, domain, contact_*, ...)');
const enrichmentTypes = z.array(z.enum(['email', 'company', 'social', 'phone'])).min(1).max(4);
const entryId = z.union([z.string().regex(/^[1-9][0-9]{0,18}$/, 'must be an entry id'), z.number().int().positive()]).transform(String);
const MAX_LEADS = 1000;

// Exactly one of planId and steps.
function onePlan<T extends { planId?: string; steps?: unknown[] }>(p: T, ctx: z.RefinementCtx): void {
  if ((p.planId === undefined) === (p.steps === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'give either planId or steps', path: [p.planId === undefined ? 'planId' : 'steps'] });
  }
}

const singleCurrent = z.strictObject({ lead, planId: z.uuid().optional(), steps: planStepsSchema.optional() }).superRefine(onePlan);
const maxCredits = z.number().min(0).max(1_000_000_000).describe('the most credits this job may spend on provider lookups');
const singleOlder = z.strictObject({
  leadId: z.union([z.string().min(1).max(200), z.number()]),
  providerId: z.string().min(1).max(64).optional(),
  enrichmentTypes,
  inputData: z.looseObject({}).default({}),
  maxCredits: maxCredits.optional(),
});

/** single_lead_enrichment's payload: `{lead, planId | steps}`, or the older `{leadId, enrichmentTypes, inputData}`. */
export const singleLeadPayload = z.union([singleCurrent, singleOlder]);

const batchCurrent = z
  .strictObject({
    leads: z.array(lead).min(1).max(MAX_LEADS).optional(),
    leadIds: z.array(entryId).min(1).max(MAX_LEADS).optional(),
    planId: z.uuid().optional(),
    steps: planStepsSchema.optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.leads === undefined) === (p.leadIds === undefined)) ctx.addIssue({ code: 'custom', message: 'give either leads or leadIds', path: ['leads'] });
    onePlan(p, ctx);
  });
const batchOlder = z.strictObject({
  leadIds: z.array(z.union([z.string().min(1).max(200), z.number()]).transform(String)).min(1).max(MAX_LEADS),
  providerId: z.string().min(1).max(64).optional(),
  enrichmentTypes,
  inputData: z.record(z.string(), z.looseObject({})).default({}),
  maxCredits: maxCredits.optional(),
});

/** batch_lead_enrichment's payload: `{leads | leadIds, planId | steps}`, or the older `{leadIds, enrichmentTypes, inputData: {id: {...}}}`. */
export const batchLeadPayload = z.union([batchCurrent, batchOlder]);

export const singleLeadEnrichment = jobType({
  name: 'single_lead_enrichment',
  description: 'Runs a plan (or the steps named by the older enrichmentTypes) over one lead; the result is its enrichment.',
  payloadSchema: singleLeadPayload,
  references: [{ field: 'planId', table: 'enrichment_plans' }],
});

export const batchLeadEnrichment = jobType({
  name: 'batch_lead_enrichment',
  description: `Runs a plan over up to ${MAX_LEADS} leads, inline or by list entry id (results are then stored on the entries).`,
  payloadSchema: batchLeadPayload,
  references: [{ field: 'planId', table: 'enrichment_plans' }],
});
