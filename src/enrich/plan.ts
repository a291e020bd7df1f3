// Plans: the local steps by name, their options, and running a plan's steps over one entry.
import { z } from 'zod';
import { toCountryCode } from './countries.js';
import type { Entry } from './entry.js';
import { companyDomain } from './steps/company-domain.js';
import { validateEmail } from './steps/email-validation.js';
import { normalizePhone } from './steps/phone-normalization.js';
import { providerStep } from './steps/provider-step.js';
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
export const planStepSchema = z.discriminatedUnion('type', [rpcScoreStep, emailValidationStep, phoneNormalizationStep, companyDomainStep, providerStep]);
export type PlanStep = z.infer<typeof planStepSchema>;
export type StepType = PlanStep['type'];
/** The `provider` step: paid lookups, run by the process's lookup service (src/providers/lookup.ts). */
export type ProviderPlanStep = Extract<PlanStep, { type: 'provider' }>;
export type LocalPlanStep = Exclude<PlanStep, ProviderPlanStep>;

/** The step types, in the order they are documented: the four local ones, then `provider`. */
export const STEP_TYPES: readonly StepType[] = ['rpc_score', 'email_validation', 'phone_normalization', 'company_domain', 'provider'];

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
    case 'provider':
      // Only a run with a lookup service (enrichEntries with `provider`) asks providers.
      throw new Error('no provider lookups are available in this process');
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

/** Runs a provider step over one entry (`index` is its place in the batch); may throw StepDeferred. */
export type ProviderStepRunner = (step: ProviderPlanStep, entry: Entry, index: number) => Promise<StepOutput>;

/**
 * Thrown by a provider step that must wait (a rate limit, a throttled provider, an answer due by
 * webhook): the batch ends without results, to run again from `retryAt` (epoch ms).
 */
export class StepDeferred extends Error {
  constructor(
    readonly retryAt: number,
    message: string,
  ) {
    super(message);
    this.name = 'StepDeferred';
  }
}

export interface EnrichEntriesOptions {
  runStep?: StepRunner;
  /** runs `provider` steps; without it they raise (recorded as the entry's error) */
  provider?: ProviderStepRunner;
  /** provider lookups in flight at once over the batch (default 16) */
  concurrency?: number;
}

export const DEFAULT_PROVIDER_CONCURRENCY = 16;

/**
 * Runs a plan's steps over a batch of entries. Local steps run synchronously, as enrichEntry;
 * provider steps of the whole batch run concurrently, at most `concurrency` at once. When a
 * provider step of any entry is deferred, the others still finish (their answers reach the
 * cache) and then the StepDeferred with the latest retryAt is thrown: the batch keeps nothing.
 */
export async function enrichEntries(steps: readonly PlanStep[], entries: readonly Entry[], opts: EnrichEntriesOptions = {}): Promise<EntryEnrichment[]> {
  const run = opts.runStep ?? runLocalStep;
  const runProvider = opts.provider;
  if (runProvider === undefined || !steps.some((s) => s.type === 'provider')) return entries.map((e) => enrichEntry(steps, e, run));
  const enriched: EntryEnrichment[] = [];
  const pending: { entry: number; step: ProviderPlanStep }[] = [];
  const local = steps.filter((s) => s.type !== 'provider');
  for (const [i, entry] of entries.entries()) {
    enriched.push(enrichEntry(local, entry, run));
    for (const s of steps) if (s.type === 'provider') pending.push({ entry: i, step: s });
  }
  let deferred: StepDeferred | null = null;
  let next = 0;
  const worker = async () => {
    while (next < pending.length) {
      const job = pending[next++]!;
      const e = enriched[job.entry]!;
      try {
        const { result, label } = await runProvider(job.step, entries[job.entry]!, job.entry);
        e.results[job.step.type] = result;
        e.outcomes[job.step.type] = label;
      } catch (err) {
        if (err instanceof StepDeferred) {
          if (deferred === null || err.retryAt > deferred.retryAt) deferred = err;
          continue;
        }
        e.outcomes[job.step.type] = 'error';
        (e.errors ??= {})[job.step.type] = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_MESSAGE);
      }
    }
  };
  const width = Math.max(1, Math.min(opts.concurrency ?? DEFAULT_PROVIDER_CONCURRENCY, pending.length));
  await Promise.all(Array.from({ length: width }, worker));
  if (deferred !== null) throw deferred;
  // Results in the plan's order of steps, as enrichEntry leaves them.
  return enriched.map((e) => reorder(steps, e));
}

function reorder(steps: readonly PlanStep[], e: EntryEnrichment): EntryEnrichment {
  const results: Record<string, unknown> = {};
  const outcomes: Record<string, string> = {};
  for (const s of steps) {
    if (s.type in e.results) results[s.type] = e.results[s.type];
    if (s.type in e.outcomes) outcomes[s.type] = e.outcomes[s.type]!;
  }
  return { results, outcomes, errors: e.errors };
}
