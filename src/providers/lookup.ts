// Paid lookups for the `provider` step: a waterfall over providers, each call through the shared
// rate limiter and the PostgreSQL cache (one call for concurrent identical lookups), every
// attempt recorded, credits kept within the entry's, the job's and the tenant's budgets.
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import type { Entry } from '../enrich/entry.js';
import { type ProviderPlanStep, type StepOutput, StepDeferred } from '../enrich/plan.js';
import { type AcceptRule, type ProviderAttempt, type ProviderStepResult, type ProviderWant, accepts, providerLabel } from '../enrich/steps/provider-step.js';
import { Batcher } from '../util/batcher.js';
import { type TokenBucket, paceFor } from './limits/pacer.js';
import { inputKey, lookupInputOf } from './cache/key.js';
import type { CacheKey, ProviderCache } from './cache/store.js';
import type { LookupInput, Provider, ProviderResult } from './provider.js';
import type { ProviderRegistry } from './registry.js';
import { type CallRecord, creditsSpent, recordCalls } from './usage/calls.js';

type Acquired = { granted: true } | { granted: false; retryAt: number; reason: 'rate_limit' | 'circuit_open' };
type Timed<T> = T & { sentAt: number };

/** What the lookups need of the shared rate limiter (src/providers/limits/limiter.ts). */
export interface LookupRateLimiter {
  acquire(provider: string, endpoint: string): Promise<Acquired>;
  /** many acquire calls in one round trip; when present, concurrent lookups share one */
  acquireMany?(provider: string, endpoint: string, count: number): Promise<Acquired[]>;
  observe(provider: string, endpoint: string, result: ProviderResult): Promise<void>;
  /** the limiter's margin (ms): a grant older than half of it is not used */
  readonly marginMs?: number;
  /** the tightest per-second limit of provider/endpoint: this process asks for slots no faster */
  perSecond?(provider: string, endpoint: string): number | undefined;
}

/** The erasure marks (src/governance/subject-marks.ts): a marked subject is never sent to a provider. */
export interface LookupSubjectMarks {
  isMarked(tenantId: string, ids: { email?: string; phone?: string }): Promise<boolean>;
  mark(scope: string, ids: { email?: string; phone?: string }): Promise<number>;
}

export interface LookupServiceOptions {
  registry: ProviderRegistry;
  cache: ProviderCache;
  /** absent: no limits are kept (tests of the waterfall alone) */
  limiter?: LookupRateLimiter;
  pool: Pool;
  appRole: string;
  /** PROVIDER_CACHE_SCOPE */
  cacheScope: 'tenant' | 'global';
  /** credits a tenant may spend per calendar month (UTC); unset: no budget */
  tenantCreditBudget?: number;
  log: Logger;
  now?: () => number;
  /** erased subjects (and ones a provider refused): checked before any call; absent: none */
  marks?: LookupSubjectMarks;
}

/** Who a lookup is for: the tenant pays, the job and entry are recorded beside each attempt. */
export interface LookupContext {
  tenantId: string;
  jobId: string | null;
  /** the entry's id in a list, or the item's place in a job's payload */
  entryKey: string | null;
  signal?: AbortSignal;
}

/** How soon a lookup whose answer is due by webhook looks in the cache again. */
export const QUEUED_RECHECK_MS = 1000;
const QUEUED_RECHECK_MAX_MS = 30_000;
/** When the limiter or the provider says wait without saying how long. */
const DEFAULT_THROTTLE_MS = 1000;
/** Grants one lookup may leave unused for their age before it waits (below). */
const STALE_GRANT_TRIES = 3;
const STALE_GRANT_BACKOFF_MS = 50;
/** A refused slot due within this long is waited for in the process (below the claim's lifetime). */
const LOCAL_WAIT_MAX_MS = 1000;
/** Waiters for a slot wake spread over this long after it frees (so they do not leave as one burst). */
const LOCAL_WAIT_QUANTUM_MS = 40;

/** Resolves at `at` (by `now`), or at once when the signal aborts. */
function sleepUntil(at: number, now: () => number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, at - now()));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The most attempt records written in one statement. */
const RECORD_BATCH_MAX = 500;
/** The most call slots asked of the limiter in one script call. */
const ACQUIRE_BATCH_MAX = 500;

/** One provider's answer to one lookup, from the cache or a call. */
interface Asked {
  outcome: string;
  credits: number;
  latencyMs: number;
  value?: string;
  details?: Record<string, unknown>;
  cached: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lookups of one process; shared by its workers. */
export class LookupService {
  private readonly now: () => number;

  constructor(private readonly opts: LookupServiceOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The enabled providers (of those named, or all) that can answer a want. */
  answering(want: ProviderWant, names?: readonly string[]): string[] {
    const all = this.opts.registry.forWant(want).map((p) => p.name);
    return names ? names.filter((n) => all.includes(n)) : all;
  }

  /** Runs a `provider` step over one entry; throws StepDeferred when it must wait. */
  async runStep(step: ProviderPlanStep, entry: Entry, ctx: LookupContext): Promise<StepOutput> {
    const o = step.options;
    const result = await this.waterfall(o.providers, o.want, lookupInputOf(entry, o.want), ctx, { accept: o.accept, maxCreditsPerEntry: o.maxCreditsPerEntry, maxCredits: o.maxCredits });
    return { result, label: providerLabel(result) };
  }

  /**
   * Asks the providers in order and stops at the first accepted answer; a miss, an error, an
   * exhausted quota or a forbidden subject falls through to the next. Throws StepDeferred when
   * a provider is rate limited or throttled, or its answer is due by webhook.
   */
  async waterfall(
    providers: readonly string[],
    want: ProviderWant,
    input: LookupInput,
    ctx: LookupContext,
    limits: { accept?: AcceptRule; maxCreditsPerEntry?: number; maxCredits?: number } = {},
  ): Promise<ProviderStepResult> {
    const attempts: ProviderAttempt[] = [];
    const enabled = providers.map((n) => this.opts.registry.get(n)).filter((p): p is Provider => p !== undefined && p.wants.includes(want));
    if (enabled.length === 0) return { value: null, answeredBy: null, attempts, stopped: 'provider_not_configured' };
    const askable = enabled.map((p) => ({ p, endpoint: p.endpoint(input) })).filter((a): a is { p: Provider; endpoint: string } => a.endpoint !== null);
    if (askable.length === 0) return { value: null, answeredBy: null, attempts, stopped: 'missing_input' };
    // An erased subject (or one a provider may not process) is never asked about: the step
    // records that it stopped, and nothing of the person.
    if (this.opts.marks && (await this.opts.marks.isMarked(ctx.tenantId, { email: input.email, phone: input.phone }))) {
      return { value: null, answeredBy: null, attempts, stopped: 'erased_subject' };
    }
    let spent = 0;
    for (const { p, endpoint } of askable) {
      if (limits.maxCreditsPerEntry !== undefined && spent >= limits.maxCreditsPerEntry) return { value: null, answeredBy: null, attempts, stopped: 'budget_exhausted' };
      if (await this.overBudget(ctx, limits.maxCredits)) return { value: null, answeredBy: null, attempts, stopped: 'budget_exhausted' };
      const asked = await this.ask(p, endpoint, input, ctx);
      spent += asked.credits;
      attempts.push({ provider: p.name, outcome: asked.outcome, credits: asked.credits, latencyMs: asked.latencyMs, ...(asked.cached ? { cached: true } : {}) });
      if (asked.outcome === 'hit' && asked.value !== undefined && accepts(limits.accept, asked.value, asked.details ?? {})) {
        return { value: asked.value, answeredBy: p.name, attempts, details: asked.details ?? {} };
      }
    }
    return { value: null, answeredBy: null, attempts };
  }

  /** Whether the job's or the tenant's budget is spent. */
  private async overBudget(ctx: LookupContext, maxCredits: number | undefined): Promise<boolean> {
    const tenantBudget = this.opts.tenantCreditBudget;
    const jobBudget = ctx.jobId !== null ? maxCredits : undefined;
    if (jobBudget === undefined && tenantBudget === undefined) return false;
    const spent = await creditsSpent(this.opts.pool, this.opts.appRole, ctx.tenantId, jobBudget === undefined ? null : ctx.jobId, tenantBudget !== undefined);
    return (jobBudget !== undefined && spent.job >= jobBudget) || (tenantBudget !== undefined && spent.tenant >= tenantBudget);
  }

  /** One provider's answer: from the cache, from another caller's call, or from a call of ours. */
  private async ask(p: Provider, endpoint: string, input: LookupInput, ctx: LookupContext): Promise<Asked> {
    const key: CacheKey = { scope: this.opts.cacheScope === 'global' ? 'global' : ctx.tenantId, provider: p.name, endpoint, inputKey: inputKey(input) };
    let waitMs = 10;
    for (;;) {
      if (ctx.signal?.aborted) throw new Error('lookup aborted');
      const claim = await this.opts.cache.claim(key, input.want);
      if (claim.kind === 'cached') {
        await this.record(ctx, p.name, endpoint, 'cache_hit', claim.answer.state, 0, 0);
        return claim.answer.state === 'hit'
          ? { outcome: 'hit', credits: 0, latencyMs: 0, value: claim.answer.value, details: claim.answer.details, cached: true }
          : { outcome: 'miss', credits: 0, latencyMs: 0, cached: true };
      }
      if (claim.kind === 'queued') {
        // Looked at again soon at first, then less often the longer the answer takes (at most 30 s apart).
        const wait = Math.min(QUEUED_RECHECK_MAX_MS, Math.max(QUEUED_RECHECK_MS, (this.now() - claim.since) / 4));
        throw new StepDeferred(Math.min(claim.until, this.now() + wait), `${p.name}: the answer is due by webhook`);
      }
      if (claim.kind === 'pending') {
        // Another caller (here or in another process) is asking: its answer lands in the cache.
        await sleep(Math.max(1, Math.min(waitMs, claim.until - this.now())));
        waitMs = Math.min(waitMs * 2, 200);
        continue;
      }
      return this.call(p, endpoint, input, ctx, key, claim.token);
    }
  }

  /** Calls the provider under our claim, within its rate limit, and stores what may be kept. */
  private async call(p: Provider, endpoint: string, input: LookupInput, ctx: LookupContext, key: CacheKey, token: string): Promise<Asked> {
    const release = () => this.opts.cache.release(key, token);
    let result: ProviderResult;
    try {
      const granted = await this.freshGrant(p.name, endpoint, ctx.signal);
      if (!granted.granted) {
        await release();
        // An open circuit (quota spent) falls through to the next provider; a rate limit waits.
        if (granted.reason === 'circuit_open') return { outcome: 'circuit_open', credits: 0, latencyMs: 0, cached: false };
        throw new StepDeferred(granted.retryAt, `${p.name} ${endpoint}: ${granted.reason}`);
      }
      result = await p.lookup(input, { signal: ctx.signal });
    } catch (err) {
      if (!(err instanceof StepDeferred)) await release().catch(() => undefined);
      throw err;
    }
    await this.opts.limiter?.observe(p.name, endpoint, result).catch((err: Error) => this.opts.log.warn({ err: { message: err.message }, provider: p.name }, 'rate limiter observe failed'));
    // Recorded before the cache keeps the answer: an answer anyone can read was paid for on record.
    await this.record(ctx, p.name, endpoint, 'call', result.outcome, result.credits, result.latencyMs);
    await this.keep(key, token, result, { tenantId: ctx.tenantId, jobId: ctx.jobId, entryKey: ctx.entryKey });
    if (result.outcome === 'forbidden_subject' && this.opts.marks) {
      // The person asked the provider not to be processed: no provider is asked about them again, for any tenant.
      await this.opts.marks.mark('global', { email: input.email, phone: input.phone });
    }
    const asked: Asked = { outcome: result.outcome, credits: result.credits, latencyMs: result.latencyMs, cached: false };
    switch (result.outcome) {
      case 'hit':
        return { ...asked, value: result.value, details: result.details };
      case 'queued':
        throw new StepDeferred(this.now() + QUEUED_RECHECK_MS, `${p.name}: the answer is due by webhook`);
      case 'throttled':
        throw new StepDeferred(result.retryAt ?? this.now() + (result.retryAfterMs ?? DEFAULT_THROTTLE_MS), `${p.name} ${endpoint}: throttled`);
      default:
        return asked;
    }
  }

  /** Stores what may be kept of a call under our claim, or gives the claim up. */
  private async keep(key: CacheKey, token: string, result: ProviderResult, paidBy: { tenantId: string; jobId: string | null; entryKey: string | null }): Promise<void> {
    switch (result.outcome) {
      case 'hit':
        return this.opts.cache.complete(key, token, { state: 'hit', value: result.value, details: result.details }, paidBy);
      case 'miss':
      case 'forbidden_subject':
        // A subject the provider must not process is, for this provider, a lasting miss.
        return this.opts.cache.complete(key, token, { state: 'miss' }, paidBy);
      case 'queued':
        return this.opts.cache.complete(key, token, { state: 'queued', requestId: result.requestId }, paidBy);
      default:
        // Throttles, errors and exhausted quotas are never kept: the next caller asks again.
        return this.opts.cache.release(key, token);
    }
  }

  /**
   * A slot granted moments ago. The limiter counts a call from its grant, and its margin covers
   * the way from the grant to the provider; on a starved event loop that way can take longer,
   * and the call would land in a later window at the provider than the one it was counted in.
   * So a grant that took more than half the margin to reach us is left unused (it stays
   * counted, which only costs a slot) and another is asked for; after a few such, the lookup
   * waits a moment and tries again (StepDeferred). A refusal whose slot is due within
   * LOCAL_WAIT_MAX_MS is waited out here; a later one is returned (the step defers).
   */
  private async freshGrant(provider: string, endpoint: string, signal: AbortSignal | undefined): Promise<Acquired> {
    const maxAgeMs = (this.opts.limiter?.marginMs ?? Number.POSITIVE_INFINITY) / 2;
    const waitUntil = this.now() + LOCAL_WAIT_MAX_MS;
    let stale = 0;
    const pace = this.pace(provider, endpoint);
    for (;;) {
      await pace?.take();
      const granted = await this.acquire(provider, endpoint);
      if (granted.granted) {
        // The grant is younger than the script call that made it.
        if (performance.now() - granted.sentAt <= maxAgeMs) return granted;
        this.staleGrants++;
        if (++stale >= STALE_GRANT_TRIES) return { granted: false, retryAt: this.now() + STALE_GRANT_BACKOFF_MS, reason: 'rate_limit' };
        continue;
      }
      // A slot due soon is waited for here, holding the cache claim: giving the claim up and
      // deferring the entry (its chunk re-read, its claim made again) cost PostgreSQL two
      // writes per refusal, and refusals are most asks when a list outruns a limit. Waiters
      // wake spread over a quantum, so the slots freed are taken a few at a time: a crowd
      // granted at once would leave together, and its last calls would reach the provider
      // later than the margin allows.
      if (granted.reason !== 'rate_limit' || granted.retryAt > waitUntil || signal?.aborted) return granted;
      await sleepUntil(Math.max(granted.retryAt, this.now()) + LOCAL_WAIT_QUANTUM_MS * Math.random(), this.now, signal);
    }
  }

  private readonly paces = new Map<string, TokenBucket | null>();

  /** This process's pace for asking slots of provider/endpoint (null: no per-second limit). */
  private pace(provider: string, endpoint: string): TokenBucket | null {
    const id = `${provider}\u0000${endpoint}`;
    let p = this.paces.get(id);
    if (p === undefined) {
      const perSecond = this.opts.limiter?.perSecond?.(provider, endpoint);
      p = perSecond === undefined ? null : paceFor(perSecond);
      this.paces.set(id, p);
    }
    return p;
  }

  /** Grants left unused because they arrived too late to be within the limiter's margin (for tests and logs). */
  staleGrants = 0;

  /** Batched acquires per provider and endpoint (the slots asked while the last script call was in flight). */
  private readonly acquirers = new Map<string, Batcher<null, Timed<Acquired>>>();

  /** A call slot of the provider's endpoint from the shared limiter (always, without one), with when it was asked of Redis. */
  private acquire(provider: string, endpoint: string): Promise<Timed<Acquired>> {
    const limiter = this.opts.limiter;
    const sentAt = performance.now();
    if (!limiter) return Promise.resolve({ granted: true, sentAt });
    const many = limiter.acquireMany?.bind(limiter);
    if (!many) return limiter.acquire(provider, endpoint).then((a) => ({ ...a, sentAt }));
    const id = `${provider}\u0000${endpoint}`;
    let batcher = this.acquirers.get(id);
    if (!batcher) {
      batcher = new Batcher<null, Timed<Acquired>>({
        maxBatch: ACQUIRE_BATCH_MAX,
        maxInFlight: 1,
        run: async (asks) => {
          const at = performance.now();
          return (await many(provider, endpoint, asks.length)).map((a) => ({ ...a, sentAt: at }));
        },
      });
      this.acquirers.set(id, batcher);
    }
    return batcher.add(null);
  }

  /**
   * Records one attempt; resolves once it is committed. Records that arrive while a write is in
   * flight go out together in the next one (a group commit): one statement and one commit for
   * many lookups, and still no lookup returns before its record is kept.
   */
  private record(ctx: LookupContext, provider: string, endpoint: string, kind: CallRecord['kind'], outcome: string, credits: number, latencyMs: number): Promise<void> {
    const rec: CallRecord = { tenantId: ctx.tenantId, jobId: ctx.jobId, entryKey: ctx.entryKey, provider, endpoint, kind, outcome, credits, latencyMs };
    return this.records.add(rec);
  }

  private readonly records = new Batcher<CallRecord, void>({
    maxBatch: RECORD_BATCH_MAX,
    maxInFlight: 1,
    run: async (recs) => {
      await recordCalls(this.opts.pool, this.opts.appRole, recs);
      return recs.map(() => undefined);
    },
  });
}
