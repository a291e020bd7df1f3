// Plans: the local steps by name, their options, and running a plan's steps over one entry.
import { z } from 'zod';
import { toCountryCode } from './countries.js';
import type { Entry } from './entry.js';
import { companyDomain } from './steps/company-domain.js';
import { validateEmail } from './steps/email-validation.js';
import { normalizePhone } from './steps/phone-normalization.js';
import { scoreRpc } from './steps/rpc-score.js';

const score = z.number().min(0).max(100);

const rpcScoreStep = z.strictObject({
  type: z.literal('rpc_score'),
  options: z
    .strictObject({ rpcThreshold: score.optional(), wpcThreshold: score.optional() })
    .refine((o) => o.rpcThreshold === undefined || o.wpcThreshold === undefined || o.wpcThreshold <= o.rpcThreshold, {
      message: 'wpcThreshold must not be above rpcThreshold',
      path: ['wpcThreshold'],
    })
    .default({}),
});
const emailValidationStep = z.strictObject({ type: z.literal('email_validation'), options: z.strictObject({}).default({}) });
const phoneNormalizationStep = z.strictObject({
  type: z.literal('phone_normalization'),
  options: z
    .strictObject({
      defaultCountry: z
        .string()
        .refine((c) => toCountryCode(c) !== null, { message: 'defaultCountry must be an ISO 3166 country code or name' })
        .optional(),
    })
    .default({}),
});
const companyDomainStep = z.strictObject({ type: z.literal('company_domain'), options: z.strictObject({}).default({}) });

/** One step of a plan, as stored and as clients send it. */
export const planStepSchema = z.discriminatedUnion('type', [rpcScoreStep, emailValidationStep, phoneNormalizationStep, companyDomainStep]);
export type PlanStep = z.infer<typeof planStepSchema>;
export type StepType = PlanStep['type'];

/** The local step types, in the order they are documented. */
export const STEP_TYPES: readonly StepType[] = ['rpc_score', 'email_validation', 'phone_normalization', 'company_domain'];

/** A plan's ordered steps: at least one, each type at most once (results are keyed by type). */
export const planStepsSchema = z
  .array(planStepSchema)
  .min(1)
  .max(STEP_TYPES.length)
  .superRefine((steps, ctx) => {
    const seen = new Set<string>();
    steps.forEach((s, i) => {
      if (seen.has(s.type)) ctx.addIssue({ code: 'custom', message: `step ${s.type} appears twice`, path: [i, 'type'] });
      seen.add(s.type);
    });
  });

/** The body of POST /v1/enrichment/plans. */
export const createPlanBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  steps: planStepsSchema,
  errorThreshold: z.number().min(0).max(1).default(1),
});

/** What a step left for one entry: a result (possibly "skipped"), or the error it raised. */
export interface EntryEnrichment {
  /** {step type: result} */
  results: Record<string, unknown>;
  /** {step type: label} for the job's summary */
  outcomes: Record<string, string>;
  /** {step type: message}, or null when no step raised */
  errors: Record<string, string> | null;
}

const MAX_ERROR_MESSAGE = 500;
const SKIPPED = { skipped: 'missing_input' } as const;

/** A step's result for one entry and the label its job's summary counts it under. */
export interface StepOutput {
  result: unknown;
  label: string;
}

/** Runs one step over one entry (the local steps below; tests may replace one). */
export type StepRunner = (step: PlanStep, entry: Entry) => StepOutput;

/** Runs one local step; null from a step means its input is missing, so the step is skipped. */
export function runLocalStep(step: PlanStep, entry: Entry): StepOutput {
  switch (step.type) {
    case 'rpc_score': {
      const r = scoreRpc(entry, step.options);
      return { result: r, label: r.class ?? 'skipped' };
    }
    case 'email_validation': {
      const r = validateEmail(entry);
      return r === null ? { result: SKIPPED, label: 'skipped' } : { result: r, label: r.status };
    }
    case 'phone_normalization': {
      const r = normalizePhone(entry, step.options);
      return r === null ? { result: SKIPPED, label: 'skipped' } : { result: r, label: r.valid ? 'valid' : 'invalid' };
    }
    case 'company_domain': {
      const r = companyDomain(entry);
      return r === null ? { result: SKIPPED, label: 'skipped' } : { result: r, label: r.freeMail ? 'free_mail' : 'company' };
    }
  }
}

/** Runs a plan's steps over one entry; a step that raises is recorded and the others still run. */
export function enrichEntry(steps: readonly PlanStep[], entry: Entry, run: StepRunner = runLocalStep): EntryEnrichment {
  const results: Record<string, unknown> = {};
  const outcomes: Record<string, string> = {};
  let errors: Record<string, string> | null = null;
  for (const step of steps) {
    try {
      const { result, label } = run(step, entry);
      results[step.type] = result;
      outcomes[step.type] = label;
    } catch (err) {
      outcomes[step.type] = 'error';
      (errors ??= {})[step.type] = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_MESSAGE);
    }
  }
  return { results, outcomes, errors };
}

/** Counts per step and outcome label over enriched entries (what a job's summary shows). */
export function countOutcomes(enriched: readonly EntryEnrichment[]): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const e of enriched) {
    for (const [step, label] of Object.entries(e.outcomes)) {
      const byLabel = (counts[step] ??= {});
      byLabel[label] = (byLabel[label] ?? 0) + 1;
    }
  }
  return counts;
}
