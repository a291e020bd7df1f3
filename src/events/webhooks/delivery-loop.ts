// Sends due webhook deliveries: one process at a time (an advisory lock), apart from job processing.
import type { Logger } from 'pino';
import type { Pool, PoolClient } from '../../db/pool.js';
import { type DueDelivery, claimDueDeliveries, recordAttempt } from './delivery-sql.js';
import { storedDeliveryBody } from './payload.js';
import { WEBHOOK_MAX_ATTEMPTS, nextRetryDelayMs } from './schedule.js';
import { type SendOptions, type SendResult, sendWebhook } from './send.js';
import { webhookHeaders } from './signing.js';

// Its own lock, not the leader's: a slow round of sends never delays the relay or the
// reconciler, and either may move to another process independently.
const DELIVERY_LOCK_KEY = 7_414_220_006;

/** The contract's timeout for one attempt. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

export interface DeliveryLoopOptions {
  pool: Pool;
  log: Logger;
  /** how often due deliveries are looked for */
  pollIntervalMs: number;
  /** RETRY_BASE_DELAY: the retry schedule is written for 1000 and scales with it */
  retryBaseDelayMs: number;
  allowPrivate: boolean;
  /** sends in flight at once, across all targets */
  concurrency?: number;
  timeoutMs?: number;
  /** replaces the HTTP POST (unit tests) */
  send?: (url: string, headers: Record<string, string>, body: string, opts: SendOptions) => Promise<SendResult>;
}

/** What an attempt's result makes of a delivery: the pure part of the loop. */
export function attemptOutcome(result: SendResult, attemptsMade: number, retryBaseDelayMs: number, now = Date.now()): { outcome: 'delivered' | 'failed' | 'pending'; nextAt: Date | null } {
  const code = result.statusCode;
  if (code !== null && code >= 200 && code < 300) return { outcome: 'delivered', nextAt: null };
  // 410 Gone: the receiver asks us to stop (Standard Webhooks' convention, and the contract's).
  if (code === 410) return { outcome: 'failed', nextAt: null };
  const delay = attemptsMade < WEBHOOK_MAX_ATTEMPTS ? nextRetryDelayMs(attemptsMade, retryBaseDelayMs) : null;
  return delay === null ? { outcome: 'failed', nextAt: null } : { outcome: 'pending', nextAt: new Date(now + delay) };
}

/** Polls for due deliveries while holding the delivery lock, and sends them with bounded concurrency. */
export class WebhookDeliveryLoop {
  private lockClient: PoolClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  // aborts sends in flight at stop: an unanswered attempt is not recorded, and comes back when its lease ends
  private shutdown = new AbortController();
  private stopped = true;
  private failing = false;
  private readonly concurrency: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: DeliveryLoopOptions) {
    this.concurrency = opts.concurrency ?? 16;
    this.timeoutMs = opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  }

  /** Starts polling. */
  start(): void {
    this.stopped = false;
    if (this.shutdown.signal.aborted) this.shutdown = new AbortController();
    const loop = () => {
      this.ticking = this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.opts.pollIntervalMs);
      });
    };
    loop();
  }

  /** Stops polling, aborts sends in flight (they are tried again after their lease), releases the lock. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    this.shutdown.abort();
    await Promise.allSettled([...this.inFlight]);
    const client = this.lockClient;
    this.lockClient = undefined;
    if (client) {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [DELIVERY_LOCK_KEY]).catch(() => undefined);
      client.release();
    }
  }

  /** One round: claim as many due deliveries as there are free slots and start sending them. */
  async tick(): Promise<void> {
    try {
      if (!(await this.holdsLock())) return;
      const free = this.concurrency - this.inFlight.size;
      const due = await claimDueDeliveries(this.opts.pool, free, this.timeoutMs + 30_000);
      for (const d of due) {
        const p = this.deliver(d).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }
      if (this.failing) this.opts.log.info('webhook deliveries recovered');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.opts.log.warn({ err: { message: (err as Error).message } }, 'webhook delivery round failed; retrying');
      this.failing = true;
    }
  }

  /** Resolves when nothing is in flight (tests). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async holdsLock(): Promise<boolean> {
    if (this.lockClient) {
      try {
        await this.lockClient.query('SELECT 1');
        return true;
      } catch {
        this.lockClient.release(true);
        this.lockClient = undefined;
      }
    }
    const client = await this.opts.pool.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [DELIVERY_LOCK_KEY]);
      if (!rows[0]?.ok) {
        client.release();
        return false;
      }
      client.on('error', () => {
        if (this.lockClient === client) this.lockClient = undefined;
        client.release(true);
      });
      this.lockClient = client;
      return true;
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
  }

  private async deliver(d: DueDelivery): Promise<void> {
    const at = new Date();
    try {
      if (d.secrets.length === 0) {
        await recordAttempt(this.opts.pool, { id: d.id, at, statusCode: null, error: 'endpoint deleted or disabled', durationMs: 0, outcome: 'failed', nextAt: null, sent: false });
        return;
      }
      const body = storedDeliveryBody(d.eventType, d.createdAt, d.payload);
      const headers = webhookHeaders(d.secrets, d.id, body);
      const send = this.opts.send ?? sendWebhook;
      const result = await send(d.url, headers, body, { timeoutMs: this.timeoutMs, allowPrivate: this.opts.allowPrivate, signal: this.shutdown.signal });
      if (this.shutdown.signal.aborted) return;
      const next = attemptOutcome(result, d.attempts + 1, this.opts.retryBaseDelayMs);
      await recordAttempt(this.opts.pool, { id: d.id, at, ...result, ...next, sent: true });
    } catch (err) {
      // The lease brings it back: the next claim after it ends tries again.
      this.opts.log.warn({ err: { message: (err as Error).message }, delivery: d.id }, 'webhook attempt not recorded');
    }
  }
}
