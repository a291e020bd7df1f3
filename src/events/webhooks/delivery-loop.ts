// Sends due webhook deliveries: one process at a time (an advisory lock), apart from job processing.
//
// A round claims due deliveries into the free sending slots. Rounds run when the database
// says deliveries were committed (a NOTIFY, see delivery-lock.ts), when a slot frees while the
// last round left some behind (a burst drains at the speed of the sends), and every
// pollIntervalMs whatever happens: the poll takes retries whose time has come, leases that
// ended, and anything a dropped connection's wake-up missed.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Pool } from '../../db/pool.js';
import { DeliveryLock } from './delivery-lock.js';
import { type DueDelivery, claimDueDeliveries, recordAttempt } from './delivery-sql.js';
import { storedDeliveryBody } from './payload.js';
import { WEBHOOK_MAX_ATTEMPTS, nextRetryDelayMs } from './schedule.js';
import { type SendOptions, type SendResult, sendWebhook } from './send.js';
import { webhookHeaders } from './signing.js';

/** The contract's timeout for one attempt. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

export interface DeliveryLoopOptions {
  pool: Pool;
  log: Logger;
  /** how often due deliveries are looked for without being told (retries, leases, missed wake-ups) */
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

/** Claims due deliveries while holding the delivery lock, and sends them with bounded concurrency. */
export class WebhookDeliveryLoop {
  private readonly lock: DeliveryLock;
  private pollTimer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private ticking: Promise<void> | undefined;
  // a wake-up came during a round: one more round follows it
  private again = false;
  // the last round filled every free slot, so more may be due: a slot that frees claims again
  private backlog = false;
  private readonly inFlight = new Set<Promise<void>>();
  // aborts sends in flight at stop: an unanswered attempt is not recorded, and comes back when its lease ends
  private shutdown: AbortController;
  private stopped = true;
  private failing = false;
  private readonly concurrency: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: DeliveryLoopOptions) {
    this.concurrency = opts.concurrency ?? 16;
    this.timeoutMs = opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
    this.shutdown = this.newShutdown();
    this.lock = new DeliveryLock(opts.pool, {
      notified: () => this.wake(),
      // take the lock (and the wake-ups) back at once; if PostgreSQL is away, the poll retries
      lost: () => this.wake(),
    });
  }

  /** Starts: a round now, then rounds on wake-ups and every pollIntervalMs. */
  start(): void {
    this.stopped = false;
    if (this.shutdown.signal.aborted) this.shutdown = this.newShutdown();
    this.round();
  }

  /** Stops rounds, aborts sends in flight (they are tried again after their lease), releases the lock. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    if (this.soon) clearImmediate(this.soon);
    this.soon = undefined;
    await this.ticking;
    this.shutdown.abort();
    await Promise.allSettled([...this.inFlight]);
    await this.lock.release();
  }

  /** Asks for a round as soon as possible. Wake-ups that come together make one round. */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.soon ??= setImmediate(() => {
      this.soon = undefined;
      this.round();
    });
  }

  /** Runs a round, then the next one: at once if woken meanwhile, else after the poll interval. */
  private round(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    clearTimeout(this.pollTimer);
    this.again = false;
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      if (this.stopped) return;
      if (this.again) this.wake();
      else this.pollTimer = setTimeout(() => this.round(), this.opts.pollIntervalMs);
    });
  }

  /** One round: claim as many due deliveries as there are free slots and start sending them. */
  async tick(): Promise<void> {
    try {
      if (!(await this.lock.hold())) return;
      const free = this.concurrency - this.inFlight.size;
      // Every slot busy: the next one to free claims (a slow target holds a slot, never a job worker).
      if (free <= 0) {
        this.backlog = true;
        return;
      }
      const due = await claimDueDeliveries(this.opts.pool, free, this.timeoutMs + 30_000);
      this.backlog = due.length === free;
      for (const d of due) {
        const p = this.deliver(d).finally(() => {
          this.inFlight.delete(p);
          if (this.backlog) this.wake();
        });
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

  // Each send in flight listens for the abort (a closing request may linger a moment past its
  // slot): a full set of slots is not the leak Node warns about past 10 listeners.
  private newShutdown(): AbortController {
    const shutdown = new AbortController();
    setMaxListeners(2 * this.concurrency, shutdown.signal);
    return shutdown;
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
