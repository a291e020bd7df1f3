// The one provider interface: a lookup input, and an explicit outcome for every call.

/** What a lookup asks for. */
export type LookupWant = 'email' | 'phone' | 'company' | 'social' | 'email_verification';

export const LOOKUP_WANTS: readonly LookupWant[] = ['email', 'phone', 'company', 'social', 'email_verification'];

/** A lookup: what is wanted and the normalised person/company fields known so far. */
export interface LookupInput {
  want: LookupWant;
  firstName?: string;
  lastName?: string;
  fullName?: string;
  /** registrable company domain */
  domain?: string;
  /** company name */
  company?: string;
  /** lower-cased email */
  email?: string;
  linkedinUrl?: string;
  /** E.164 phone */
  phone?: string;
}

/**
 * One observation of a provider's budget from its response headers: a rate window
 * (second ... day) or the account's credit balance. A limiter can tighten from these.
 */
export interface RateLimitObservation {
  window: 'second' | 'minute' | 'hour' | 'day' | 'credits';
  limit?: number;
  remaining?: number;
  /** epoch ms when the window resets, when the provider says */
  resetAt?: number;
}

/** A hit: the answer to `want` (an email, a phone, a domain, a profile URL, a verification status) and what came with it. */
export interface HitOutcome {
  outcome: 'hit';
  value: string;
  details: Record<string, unknown>;
  credits: number;
}

/** No answer; `credits` is what the provider billed anyway (usually 0). */
export interface MissOutcome {
  outcome: 'miss';
  credits: number;
}

/**
 * Ask again later without spending an attempt. `rate_limit` should tighten the limiter;
 * `pending` means the provider is still working on it (Hunter's verifier 202).
 */
export interface ThrottledOutcome {
  outcome: 'throttled';
  reason: 'rate_limit' | 'pending';
  retryAfterMs: number | null;
  retryAt: number | null;
  credits: 0;
}

/** The account's credits are spent: stop asking this provider until `resetAt` (epoch ms) when known. */
export interface QuotaExhaustedOutcome {
  outcome: 'quota_exhausted';
  resetAt: number | null;
  credits: 0;
}

/** The provider was asked never to process this subject (Hunter 451): never ask about them again. */
export interface ForbiddenSubjectOutcome {
  outcome: 'forbidden_subject';
  credits: 0;
}

/** The answer comes later by webhook, correlated by `requestId`. */
export interface QueuedOutcome {
  outcome: 'queued';
  requestId: string;
  credits: 0;
}

/** Anything else; `retryable` says whether asking again can help. */
export interface ErrorOutcome {
  outcome: 'error';
  retryable: boolean;
  message: string;
  credits: 0;
}

export type ProviderOutcome = HitOutcome | MissOutcome | ThrottledOutcome | QuotaExhaustedOutcome | ForbiddenSubjectOutcome | QueuedOutcome | ErrorOutcome;

export type OutcomeKind = ProviderOutcome['outcome'];

/** An outcome with what every call reports beside it. */
export type ProviderResult = ProviderOutcome & {
  provider: string;
  endpoint: string;
  /** HTTP status, null when no response came (timeout, connection refused, input not askable) */
  status: number | null;
  latencyMs: number;
  rateLimits: RateLimitObservation[];
};

export interface LookupOptions {
  /** aborts the call (a job cancelled, a shutdown); the adapter's own timeout still applies */
  signal?: AbortSignal;
}

/** A paid data provider behind one adapter. */
export interface Provider {
  /** lower-case name: hunter, apollo, pdl, prospeo, clearbit, or a generic provider's */
  readonly name: string;
  /** what it can answer */
  readonly wants: readonly LookupWant[];
  /** The endpoint a lookup would go to (limits and cache are per endpoint); null when this input cannot be asked. */
  endpoint(input: LookupInput): string | null;
  /** Asks once; never throws for anything the provider or the network does. */
  lookup(input: LookupInput, options?: LookupOptions): Promise<ProviderResult>;
}

/** Options every built-in adapter takes. */
export interface AdapterOptions {
  apiKey: string;
  /** the provider's public URL when unset */
  baseUrl?: string;
  /** per call, ms (default 10 s) */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

// Helpers that keep adapters' outcome literals short and their credits typed.

/** A hit outcome. */
export const hit = (value: string, credits: number, details: Record<string, unknown> = {}): HitOutcome => ({ outcome: 'hit', value, details, credits });
/** A miss outcome. */
export const miss = (credits = 0): MissOutcome => ({ outcome: 'miss', credits });
/** An error outcome. */
export const failure = (message: string, retryable: boolean): ErrorOutcome => ({ outcome: 'error', retryable, message, credits: 0 });
/** A quota-exhausted outcome. */
export const quotaExhausted = (resetAt: number | null = null): QuotaExhaustedOutcome => ({ outcome: 'quota_exhausted', resetAt, credits: 0 });
/** A forbidden-subject outcome. */
export const forbiddenSubject = (): ForbiddenSubjectOutcome => ({ outcome: 'forbidden_subject', credits: 0 });
/** A queued outcome. */
export const queued = (requestId: string): QueuedOutcome => ({ outcome: 'queued', requestId, credits: 0 });

/** A throttled outcome from a delay (ms) if known, dated from `now`. */
export function throttled(retryAfterMs: number | null, now: number, reason: ThrottledOutcome['reason'] = 'rate_limit'): ThrottledOutcome {
  return { outcome: 'throttled', reason, retryAfterMs, retryAt: retryAfterMs === null ? null : now + retryAfterMs, credits: 0 };
}

/** A non-empty trimmed string, or undefined. */
export function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** The full name of an input: its fullName, else first + last. */
export function fullNameOf(input: LookupInput): string | undefined {
  return text(input.fullName) ?? (input.firstName && input.lastName ? `${input.firstName} ${input.lastName}`.trim() : undefined);
}
