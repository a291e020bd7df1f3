// The provider cache in PostgreSQL: answers kept per scope, provider, endpoint and normalised
// input, and a claim row that makes concurrent identical lookups (in any process) one call.
import { randomUUID } from 'node:crypto';
import type { Pool } from '../../db/pool.js';
import { Batcher } from '../../util/batcher.js';

/** How long answers are kept: hits long, clean misses shorter; throttles and errors never. */
export const CACHE_TTL_MS = {
  hit: 30 * 24 * 3600_000,
  miss: 7 * 24 * 3600_000,
  /** a lookup whose answer is due by webhook: asked again after this if none came */
  queued: 15 * 60_000,
} as const;

/** Where a lookup is cached: `scope` is the tenant's id, or 'global' (PROVIDER_CACHE_SCOPE). */
export interface CacheKey {
  scope: string;
  provider: string;
  endpoint: string;
  inputKey: string;
}

export type CachedAnswer = { state: 'hit'; value: string; details: Record<string, unknown> } | { state: 'miss' };

/** What trying to claim a lookup found. */
export type ClaimOutcome =
  | { kind: 'claimed'; token: string }
  | { kind: 'cached'; answer: CachedAnswer }
  /** another caller is asking right now: wait for its answer */
  | { kind: 'pending'; until: number }
  /** the answer is due by webhook (asked at `since`, epoch ms) */
  | { kind: 'queued'; until: number; since: number };

// Claims many lookups, or reads what holds each, in one statement: a row inserted by another
// transaction after this statement's snapshot is found by the INSERT but not by the read; its
// caller then sees nothing and tries again. Rows are inserted in key order, so two batches of
// overlapping keys lock them in the same order. The read is LATERAL so that each key is one
// index probe whatever the planner guesses of the arrays' length.
const CLAIM_MANY = `
WITH asked AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
    AS a(scope, provider, endpoint, input_key, want, claim, ord)
), claimed AS (
  INSERT INTO provider_cache (scope, provider, endpoint, input_key, want, state, claim, expires_at)
  SELECT scope, provider, endpoint, input_key, want, 'pending', claim, now() + $7::int * interval '1 millisecond'
  FROM asked ORDER BY ord
  ON CONFLICT (scope, provider, endpoint, input_key) DO UPDATE SET
    state = 'pending', claim = EXCLUDED.claim, value = NULL, details = NULL, request_id = NULL,
    expires_at = EXCLUDED.expires_at, updated_at = now()
  WHERE provider_cache.expires_at <= now()
  RETURNING claim
)
SELECT a.ord, c.claim, p.state, p.value, p.details, p.expires_ms, p.updated_ms, p.expired
FROM asked a
LEFT JOIN claimed c ON c.claim = a.claim
LEFT JOIN LATERAL (
  SELECT x.state, x.value, x.details,
    (extract(epoch FROM x.expires_at) * 1000)::float8 AS expires_ms,
    (extract(epoch FROM x.updated_at) * 1000)::float8 AS updated_ms,
    x.expires_at <= now() AS expired
  FROM provider_cache x
  WHERE c.claim IS NULL AND x.scope = a.scope AND x.provider = a.provider AND x.endpoint = a.endpoint AND x.input_key = a.input_key
) p ON true
ORDER BY a.ord`;

/** The most claims sent in one statement. */
const CLAIM_BATCH_MAX = 500;

/** PostgreSQL's deadlock_detected: two batches met on the same keys in some other order. */
const DEADLOCK = '40P01';

interface ClaimRequest {
  key: CacheKey;
  want: string;
  token: string;
}

interface ClaimRow {
  ord: string;
  claim: string | null;
  state: string | null;
  value: string | null;
  details: Record<string, unknown> | null;
  expires_ms: number;
  updated_ms: number;
  expired: boolean | null;
}

/** What one claim row says of its lookup. */
function claimOutcome(token: string, row: ClaimRow | undefined): ClaimOutcome {
  if (row?.claim === token) return { kind: 'claimed', token };
  // Gone (released by its claimer), just expired, or not yet visible: the next claim decides.
  if (!row || row.state === null || row.expired) return { kind: 'pending', until: 0 };
  if (row.state === 'hit') return { kind: 'cached', answer: { state: 'hit', value: row.value ?? '', details: row.details ?? {} } };
  if (row.state === 'miss') return { kind: 'cached', answer: { state: 'miss' } };
  if (row.state === 'queued') return { kind: 'queued', until: row.expires_ms, since: row.updated_ms };
  return { kind: 'pending', until: row.expires_ms };
}

const keyText = (k: CacheKey) => `${k.scope}\u0000${k.provider}\u0000${k.endpoint}\u0000${k.inputKey}`;

// Completes many claimed lookups in one statement (each row still only under its own claim).
const COMPLETE = `
UPDATE provider_cache p SET state = r.state, value = r.value, details = r.details, claim = NULL, request_id = r.request_id,
  paid_by = r.paid_by, job_id = r.job_id, entry_key = r.entry_key,
  expires_at = now() + r.ttl * interval '1 millisecond', updated_at = now()
FROM json_to_recordset($1::json) AS r(scope text, provider text, endpoint text, input_key text, claim text, state text, value text,
  details jsonb, request_id text, paid_by uuid, job_id uuid, entry_key text, ttl bigint)
WHERE p.scope = r.scope AND p.provider = r.provider AND p.endpoint = r.endpoint AND p.input_key = r.input_key AND p.claim = r.claim`;

/** The most completions written in one statement. */
const COMPLETE_BATCH_MAX = 500;

const RELEASE = `
DELETE FROM provider_cache WHERE scope = $1::text AND provider = $2::text AND endpoint = $3::text AND input_key = $4::text AND claim = $5::text`;

// A webhook's answer to a queued lookup: the row becomes a hit or a miss (once).
const ANSWER_QUEUED = `
UPDATE provider_cache SET state = $3::text, value = $4::text, details = $5::jsonb, request_id = NULL,
  expires_at = now() + $6::bigint * interval '1 millisecond', updated_at = now()
WHERE provider = $1::text AND request_id = $2::text AND state = 'queued'
RETURNING want, endpoint, paid_by, job_id::text AS job_id, entry_key`;

const QUEUED_WANT = `SELECT want FROM provider_cache WHERE provider = $1::text AND request_id = $2::text AND state = 'queued'`;

/** Who asked a lookup whose answer came by webhook. */
export interface QueuedLookup {
  want: string;
  endpoint: string;
  paid_by: string | null;
  job_id: string | null;
  entry_key: string | null;
}

/** The cache's statements over the owner's pool (the cache spans tenants by design; see 0011). */
export class ProviderCache {
  constructor(
    private readonly pool: Pool,
    /** how long a claim holds before another caller may take it over (the claimer died) */
    private readonly claimTtlMs: number,
  ) {}

  private args(k: CacheKey): string[] {
    return [k.scope, k.provider, k.endpoint, k.inputKey];
  }

  // Claims go out in batches (one statement for the claims made while the last was in flight).
  private readonly claims = new Batcher<ClaimRequest, ClaimOutcome>({ maxBatch: CLAIM_BATCH_MAX, maxInFlight: 1, run: (reqs) => this.claimMany(reqs) });

  /** Claims the lookup, or says what holds it: a fresh answer, a caller asking now, or a queued answer. */
  claim(k: CacheKey, want: string): Promise<ClaimOutcome> {
    return this.claims.add({ key: k, want, token: randomUUID() });
  }

  /** One statement for many claims; a key asked twice in the batch is claimed once, the other waits as for any claimer. */
  private async claimMany(reqs: ClaimRequest[]): Promise<ClaimOutcome[]> {
    const first = new Map<string, ClaimRequest>();
    for (const r of reqs) {
      const text = keyText(r.key);
      if (!first.has(text)) first.set(text, r);
    }
    // In key order: two batches that share keys take their row locks in the same order.
    const sent = [...first.keys()].sort().map((text) => first.get(text)!);
    let rows: ClaimRow[];
    try {
      ({ rows } = await this.pool.query<ClaimRow>(CLAIM_MANY, [
        sent.map((r) => r.key.scope),
        sent.map((r) => r.key.provider),
        sent.map((r) => r.key.endpoint),
        sent.map((r) => r.key.inputKey),
        sent.map((r) => r.want),
        sent.map((r) => r.token),
        this.claimTtlMs,
      ]));
    } catch (err) {
      // Nothing of a deadlocked batch was kept: its callers look again, as after any lost race.
      if ((err as { code?: string }).code === DEADLOCK) return reqs.map(() => ({ kind: 'pending', until: 0 }));
      throw err;
    }
    const byToken = new Map(sent.map((r, i) => [r.token, rows[i]]));
    return reqs.map((r) => (byToken.has(r.token) ? claimOutcome(r.token, byToken.get(r.token)) : { kind: 'pending', until: 0 }));
  }

  /** Stores the claimed lookup's answer (hit, miss, or queued for a webhook) and lets waiters read it. */
  async complete(
    k: CacheKey,
    token: string,
    answer: CachedAnswer | { state: 'queued'; requestId: string },
    paidBy: { tenantId: string; jobId: string | null; entryKey: string | null },
  ): Promise<void> {
    const row = {
      scope: k.scope,
      provider: k.provider,
      endpoint: k.endpoint,
      input_key: k.inputKey,
      claim: token,
      state: answer.state,
      value: answer.state === 'hit' ? answer.value : null,
      details: answer.state === 'hit' ? answer.details : null,
      request_id: answer.state === 'queued' ? answer.requestId : null,
      paid_by: paidBy.tenantId,
      job_id: paidBy.jobId,
      entry_key: paidBy.entryKey,
      ttl: CACHE_TTL_MS[answer.state],
    };
    // A group commit: completions that arrive while a write is in flight go out together in the
    // next one; each caller resolves once its own row is committed.
    return this.completions.add(row);
  }

  private readonly completions = new Batcher<Record<string, unknown>, void>({
    maxBatch: COMPLETE_BATCH_MAX,
    maxInFlight: 1,
    run: async (rows) => {
      await this.pool.query(COMPLETE, [JSON.stringify(rows)]);
      return rows.map(() => undefined);
    },
  });

  /** Gives up the claim without keeping anything (a throttle, an error): the next caller asks. */
  async release(k: CacheKey, token: string): Promise<void> {
    await this.pool.query(RELEASE, [...this.args(k), token]);
  }

  /** The want of a queued lookup, or null when no lookup waits on this request id. */
  async queuedWant(provider: string, requestId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ want: string }>(QUEUED_WANT, [provider, requestId]);
    return rows[0]?.want ?? null;
  }

  /** Stores a webhook's answer to a queued lookup; null when none waited (unknown or answered already). */
  async answerQueued(provider: string, requestId: string, answer: CachedAnswer): Promise<QueuedLookup | null> {
    const value = answer.state === 'hit' ? answer.value : null;
    const details = answer.state === 'hit' ? JSON.stringify(answer.details) : null;
    const { rows } = await this.pool.query<QueuedLookup>(ANSWER_QUEUED, [provider, requestId, answer.state, value, details, CACHE_TTL_MS[answer.state]]);
    return rows[0] ?? null;
  }
}
