// Incoming provider webhooks: POST /v1/webhooks/providers/:provider (and /v1/enrichment/webhook?provider=).
// HMAC over the raw body with <PROVIDER>_WEBHOOK_SECRET (constant-time), a 5-minute timestamp
// window, replays refused by id (remembered in Redis); the answer completes the queued lookup in
// the cache, where the waiting chunk (re-queued until then) finds it.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { withTenant } from '../../db/transaction.js';
import { type JobQueue, chunkTaskId } from '../../queue/queue.js';
import { AppError, validationError } from '../../errors.js';
import { parseClearbitWebhook } from '../../providers/adapters/clearbit.js';
import { type CachedAnswer, ProviderCache } from '../../providers/cache/store.js';
import { isKnownProvider } from '../../enrich/steps/provider-step.js';
import type { LookupWant, ProviderOutcome } from '../../providers/provider.js';
import { recordCalls } from '../../providers/usage/calls.js';
import { PROVIDER_WEBHOOK_HEADERS, PROVIDER_WEBHOOK_TOLERANCE_MS, verifyProviderWebhook } from '../../providers/webhook-signature.js';
import { errorResponse } from '../schemas/job.js';

/** Reads a provider's webhook payload: the request it answers and the lookup's outcome. */
type WebhookParser = (payload: unknown, want: LookupWant) => { requestId: string; outcome: ProviderOutcome } | null;

/** Providers that answer by webhook, and how their payloads read. */
const PARSERS: Record<string, WebhookParser> = {
  clearbit: parseClearbitWebhook,
};

/** The id a payload answers, before its want is known (Clearbit: `id`). */
function requestIdOf(payload: unknown): string | null {
  const id = (payload as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id !== '' ? id : null;
}

export interface ProviderWebhookDeps {
  pool: Pool;
  appRole: string;
  redis: Redis;
  /** QUEUE_PREFIX: replay ids live under it */
  prefix: string;
  /** <PROVIDER>_WEBHOOK_SECRET by lower-case provider name */
  secrets: Record<string, string>;
  /** where the waiting chunk's task is, to run it now rather than at its next look */
  queue?: JobQueue;
  now?: () => number;
}

// The chunk of a list job that holds an entry (the lookup's entry key is the entry's id).
const CHUNK_OF_ENTRY = `
SELECT seq FROM list_job_chunks
WHERE job_id = $1::uuid AND state <> 'done' AND $2::bigint BETWEEN first_entry_id AND last_entry_id
LIMIT 1`;

/** Runs the deferred chunk task waiting for this answer now (it would look again later anyway). */
async function wakeChunk(deps: ProviderWebhookDeps, tenantId: string, jobId: string, entryKey: string): Promise<void> {
  if (!deps.queue || !/^[1-9][0-9]{0,18}$/.test(entryKey)) return;
  const { rows } = await withTenant(deps.pool, deps.appRole, tenantId, (tx) => tx.query<{ seq: number }>(CHUNK_OF_ENTRY, [jobId, entryKey]));
  const seq = rows[0]?.seq;
  if (seq === undefined) return;
  const task = await deps.queue.getJob(chunkTaskId(jobId, seq));
  if (task && (await task.isDelayed())) await task.promote();
}

export interface WebhookAnswer {
  received: true;
  /** whether a queued lookup was waiting for this answer */
  matched: boolean;
}

/** Remembered long enough that a replay within the timestamp window (either side) is caught. */
const REPLAY_TTL_SECONDS = Math.ceil((2 * PROVIDER_WEBHOOK_TOLERANCE_MS) / 1000) + 60;

/** Checks and applies one provider webhook; throws AppError for what is refused. */
export async function receiveProviderWebhook(
  deps: ProviderWebhookDeps,
  provider: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string,
): Promise<WebhookAnswer> {
  const name = provider.toLowerCase();
  const secret = Object.hasOwn(deps.secrets, name) ? deps.secrets[name] : undefined;
  const parser = PARSERS[name];
  if (!isKnownProvider(name) || !parser || secret === undefined || secret.trim() === '') {
    throw validationError([{ path: 'provider', message: `${name.slice(0, 64)} has no webhook configured (a provider that answers by webhook, and its <PROVIDER>_WEBHOOK_SECRET)` }], 'No webhook is configured for this provider.');
  }
  const now = deps.now?.() ?? Date.now();
  const check = verifyProviderWebhook(secret, headers, rawBody, now);
  if (!check.ok && check.reason === 'stale_timestamp') {
    throw validationError([{ path: PROVIDER_WEBHOOK_HEADERS.timestamp, message: 'is more than 5 minutes away from now' }], 'The webhook timestamp is outside the 5-minute window.');
  }
  if (!check.ok) throw new AppError('unauthorized', check.reason === 'missing_headers' ? 'The webhook signature headers are missing.' : 'The webhook signature does not match.');
  const idHeader = headers[PROVIDER_WEBHOOK_HEADERS.id];
  const id = Array.isArray(idHeader) ? idHeader[0] : idHeader;
  if (!id || id.length > 200) throw new AppError('unauthorized', `The ${PROVIDER_WEBHOOK_HEADERS.id} header is missing.`);
  // Remembered only once the signature holds, so a forged delivery cannot burn a real id.
  const fresh = await deps.redis.set(`${deps.prefix}:provider-webhook:${name}:${id}`, '1', 'EX', REPLAY_TTL_SECONDS, 'NX');
  if (fresh !== 'OK') throw validationError([{ path: PROVIDER_WEBHOOK_HEADERS.id, message: 'this delivery was received already' }], 'The webhook is a replay.');
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody);
  } catch {
    throw new AppError('invalid_json', 'The body is not valid JSON.');
  }
  const requestId = requestIdOf(payload);
  if (requestId === null) throw validationError([{ path: 'id', message: 'is required' }], 'The webhook names no request.');
  const cache = new ProviderCache(deps.pool, 0);
  const want = await cache.queuedWant(name, requestId);
  if (want === null) return { received: true, matched: false };
  const parsed = parser(payload, want as LookupWant);
  if (parsed === null) throw validationError([{ path: 'status', message: 'is required' }], 'The webhook payload is not one this provider sends.');
  const o = parsed.outcome;
  // An error answer keeps the lookup queued until it expires, then it is asked again.
  if (o.outcome !== 'hit' && o.outcome !== 'miss') return { received: true, matched: false };
  const answer: CachedAnswer = o.outcome === 'hit' ? { state: 'hit', value: o.value, details: o.details } : { state: 'miss' };
  const waited = await cache.answerQueued(name, requestId, answer);
  if (waited === null) return { received: true, matched: false };
  if (waited.paid_by !== null) {
    // A queued lookup is billed when answered: its credits go to the tenant that asked.
    await recordCalls(deps.pool, deps.appRole, [
      { tenantId: waited.paid_by, jobId: waited.job_id, entryKey: waited.entry_key, provider: name, endpoint: waited.endpoint, kind: 'webhook', outcome: o.outcome, credits: o.credits, latencyMs: 0 },
    ]);
    // A promotion that fails (Redis away, the task moved on) only leaves the chunk to its next look.
    if (waited.job_id !== null && waited.entry_key !== null) await wakeChunk(deps, waited.paid_by, waited.job_id, waited.entry_key).catch(() => undefined);
  }
  return { received: true, matched: true };
}

export const webhookAnswer = z.object({ received: z.literal(true), matched: z.boolean().describe('whether a queued lookup was waiting for this answer') });

/** Registers POST /webhooks/providers/:provider (under /v1), reading the raw body. */
export async function providerWebhookRoutes(app: FastifyInstance, deps: ProviderWebhookDeps): Promise<void> {
  // The signature covers the raw bytes: this scope keeps the body as text, whatever its type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post('/webhooks/providers/:provider', {
    schema: {
      tags: ['providers'],
      summary: 'A provider delivers the answer to a queued lookup',
      description:
        `HMAC-SHA256 with <PROVIDER>_WEBHOOK_SECRET over "<timestamp>.<raw body>" in ${PROVIDER_WEBHOOK_HEADERS.signature} (sha256=<hex>), ` +
        `${PROVIDER_WEBHOOK_HEADERS.timestamp} within 5 minutes, ${PROVIDER_WEBHOOK_HEADERS.id} never seen before. ` +
        '401 on a missing or wrong signature, 400 on a stale timestamp, a replay, or a provider with no webhook configured.',
      params: z.object({ provider: z.string().min(1).max(64) }),
      response: { 200: webhookAnswer, 400: errorResponse, 401: errorResponse },
    },
  }, async (request) => receiveProviderWebhook(deps, request.params.provider, request.headers, typeof request.body === 'string' ? request.body : ''));
}
