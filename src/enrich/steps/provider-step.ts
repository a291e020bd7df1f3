// The `provider` step: its options (a waterfall of providers, what is wanted, an accept rule),
// the names it may use, and the accept rule itself. Running it is src/providers/lookup.ts.
import safeRegex from 'safe-regex2';
import { z } from 'zod';
import { BUILT_IN_PROVIDERS } from '../../providers/config.js';

/** Provider names a plan may use: the built-in ones, and generic ones the process was configured with. */
const knownProviders = new Set<string>(BUILT_IN_PROVIDERS);

/** Adds configured generic providers' names (at start, from GENERIC_PROVIDERS). */
export function registerProviderNames(names: Iterable<string>): void {
  for (const n of names) knownProviders.add(n);
}

/** Whether a plan may name this provider. */
export function isKnownProvider(name: string): boolean {
  return knownProviders.has(name);
}

export const PROVIDER_WANTS = ['email', 'phone', 'company', 'social'] as const;
export type ProviderWant = (typeof PROVIDER_WANTS)[number];

// A tenant's pattern runs in shared workers: one with nested repetition ((a+)+, (a|a)*) can
// backtrack for minutes on a short value, so such patterns are refused when the plan is saved
// (safe-regex2's star-height check, the one Fastify's router uses for route patterns).
const validRegex = (s: string) => {
  try {
    new RegExp(s, 'u');
  } catch {
    return false;
  }
  return safeRegex(s);
};

/** When an answer is accepted (default: any non-empty value). */
export const acceptSchema = z.strictObject({
  /** the value must match this regular expression (Unicode, case-sensitive) */
  pattern: z.string().min(1).max(500).refine(validRegex, { message: 'must be a valid regular expression without nested repetition such as (a+)+' }).optional(),
  /** the provider's own confidence (score, confidence, or likelihood x 10), 0..100, must be at least this */
  minScore: z.number().min(0).max(100).optional(),
});
export type AcceptRule = z.infer<typeof acceptSchema>;

export const providerStepOptions = z.strictObject({
  providers: z
    .array(z.string().min(1).max(64).refine(isKnownProvider, { message: 'is not a known provider' }))
    .min(1)
    .max(10)
    .refine((ps) => new Set(ps).size === ps.length, { message: 'names a provider twice' }),
  want: z.enum(PROVIDER_WANTS),
  accept: acceptSchema.optional(),
  /** the most credits one entry may spend on this step; the waterfall stops once reached */
  maxCreditsPerEntry: z.number().min(0).max(1_000_000).optional(),
  /** the most credits the whole job may spend (a job budget); entries past it are not asked */
  maxCredits: z.number().min(0).max(1_000_000_000).optional(),
});
export type ProviderStepOptions = z.infer<typeof providerStepOptions>;

export const providerStep = z.strictObject({ type: z.literal('provider'), options: providerStepOptions });

/** One provider asked for one entry (the step's `attempts`). */
export interface ProviderAttempt {
  provider: string;
  outcome: string;
  credits: number;
  latencyMs: number;
  /** answered from the cache: no call, no credit */
  cached?: boolean;
}

/** The step's result: the accepted value and who answered, and every attempt. */
export interface ProviderStepResult {
  value: string | null;
  answeredBy: string | null;
  attempts: ProviderAttempt[];
  details?: Record<string, unknown>;
  /** why the waterfall stopped without an answer, when not simply everyone missing */
  stopped?: 'budget_exhausted' | 'provider_not_configured' | 'missing_input' | 'erased_subject';
}

function scoreOf(details: Record<string, unknown>): number | null {
  for (const k of ['score', 'confidence']) if (typeof details[k] === 'number') return details[k];
  return typeof details.likelihood === 'number' ? details.likelihood * 10 : null;
}

const MAX_TESTED_LENGTH = 2_000;

/** Whether a hit's value is accepted by the rule. */
export function accepts(rule: AcceptRule | undefined, value: string, details: Record<string, unknown>): boolean {
  if (value.trim() === '') return false;
  if (!rule) return true;
  // Values are short (an email, a phone, a URL); the cap bounds a pattern's work whatever it is.
  if (rule.pattern !== undefined && (value.length > MAX_TESTED_LENGTH || !new RegExp(rule.pattern, 'u').test(value))) return false;
  if (rule.minScore !== undefined) {
    const score = scoreOf(details);
    if (score === null || score < rule.minScore) return false;
  }
  return true;
}

/** The summary label of a result. */
export function providerLabel(r: ProviderStepResult): string {
  if (r.answeredBy !== null) return 'answered';
  return r.stopped ?? 'not_found';
}
