// The retry schedule as data, the outcome of an attempt, and signatures a Standard Webhooks receiver accepts.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { attemptOutcome } from '../../../src/events/webhooks/delivery-loop.js';
import { storedDeliveryBody } from '../../../src/events/webhooks/payload.js';
import { WEBHOOK_MAX_ATTEMPTS, WEBHOOK_RETRY_SCHEDULE_MS, nextRetryDelayMs } from '../../../src/events/webhooks/schedule.js';
import { generateWebhookSecret, webhookHeaders } from '../../../src/events/webhooks/signing.js';

describe('retry schedule', () => {
  it('spans at least 24 hours and grows', () => {
    const total = WEBHOOK_RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(24 * 60 * 60_000);
    for (let i = 1; i < WEBHOOK_RETRY_SCHEDULE_MS.length; i++) expect(WEBHOOK_RETRY_SCHEDULE_MS[i]).toBeGreaterThan(WEBHOOK_RETRY_SCHEDULE_MS[i - 1]!);
  });

  it('scales with RETRY_BASE_DELAY, adds at most 10% jitter, and ends', () => {
    expect(nextRetryDelayMs(1, 1000, () => 0)).toBe(5000);
    expect(nextRetryDelayMs(1, 50, () => 0)).toBe(250);
    expect(nextRetryDelayMs(2, 1000, () => 1)).toBe(33_000);
    expect(nextRetryDelayMs(WEBHOOK_MAX_ATTEMPTS - 1, 1000, () => 0)).toBe(24 * 60 * 60_000);
    expect(nextRetryDelayMs(WEBHOOK_MAX_ATTEMPTS, 1000)).toBeNull();
  });

  it('turns an answer into delivered, failed or a retry', () => {
    const r = (statusCode: number | null) => ({ statusCode, error: null, durationMs: 1 });
    expect(attemptOutcome(r(204), 1, 1000).outcome).toBe('delivered');
    expect(attemptOutcome(r(410), 1, 1000).outcome).toBe('failed');
    const retry = attemptOutcome(r(500), 1, 1000, 0);
    expect(retry.outcome).toBe('pending');
    expect(retry.nextAt!.getTime()).toBeGreaterThanOrEqual(5000);
    expect(attemptOutcome(r(null), 2, 1000).outcome).toBe('pending');
    expect(attemptOutcome(r(500), WEBHOOK_MAX_ATTEMPTS, 1000).outcome).toBe('failed');
  });
});

describe('signing', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const s = generateWebhookSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(s.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(generateWebhookSecret()).not.toBe(s);
  });

  it('signs so that the standardwebhooks package verifies, with either secret during a rotation', () => {
    const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
    const body = storedDeliveryBody('job.completed', new Date('2026-01-01T00:00:00Z'), {
      id: '00000000-0000-4000-8000-000000000001', tenant_id: '00000000-0000-4000-8000-000000000002', type: 'test_job', status: 'completed',
      priority: 3, payload: {}, tags: [], attempts: 1, max_attempts: 3, worker_id: 'w', progress_total: 1, progress_processed: 1,
      progress_succeeded: 1, progress_failed: 0, result: { ok: true }, last_error: null, webhook_url: 'https://x.example/h',
      run_at: null, created_at: '2026-01-01T00:00:00.000001+00:00', started_at: '2026-01-01T00:00:00+00:00', completed_at: '2026-01-01T00:00:01+00:00',
    });
    const headers = webhookHeaders([newSecret, oldSecret], 'msg-1', body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    const parsed = new Webhook(newSecret).verify(body, headers) as { type: string; data: { job: { durationMs: number; result: unknown } } };
    expect(parsed.type).toBe('job.completed');
    expect(parsed.data.job.durationMs).toBe(1000);
    expect(new Webhook(oldSecret).verify(body, headers)).toBeTruthy();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(newSecret).verify(`${body} `, headers)).toThrow();
  });
});
