// Header parsing shared by the adapters, and the signature of incoming provider webhooks.
import { describe, expect, it } from 'vitest';
import { joinUrl, resetAt, retryAfterMs } from '../../../src/providers/http.js';
import { providerWebhookHeaders, signProviderWebhook, verifyProviderWebhook } from '../../../src/providers/webhook-signature.js';
import { simOptionsFromFlags } from '../../../src/cli/provider-sim.js';
import { simOptionsSchema } from '../../../src/providers/sim/options.js';

const NOW = Date.parse('2026-11-22T22:00:00Z');

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '30' }), NOW)).toBe(30_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Sun, 22 Nov 2026 22:00:05 GMT' }), NOW)).toBe(5_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Sun, 22 Nov 2026 21:00:00 GMT' }), NOW)).toBe(0);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), NOW)).toBeNull();
    expect(retryAfterMs(new Headers(), NOW)).toBeNull();
  });
});

describe('resetAt', () => {
  it('takes small numbers as seconds from now, large ones as epoch seconds, and dates', () => {
    expect(resetAt('42', NOW)).toBe(NOW + 42_000);
    expect(resetAt('1795384800', NOW)).toBe(1_795_384_800_000);
    expect(resetAt('2026-11-22T22:01:00Z', NOW)).toBe(NOW + 60_000);
    expect(resetAt('', NOW)).toBeUndefined();
    expect(resetAt(null, NOW)).toBeUndefined();
  });

  it('joins base URLs and paths with one slash', () => {
    expect(joinUrl('http://x/v2/', '/email-finder')).toBe('http://x/v2/email-finder');
    expect(joinUrl('http://x', 'enrich-person')).toBe('http://x/enrich-person');
  });
});

describe('provider webhook signatures', () => {
  it('sign "<timestamp>.<raw body>" with HMAC-SHA256 and verify within five minutes', () => {
    const body = '{"id":"req-1","status":200}';
    const headers = providerWebhookHeaders('secret', 'req-1', body, NOW);
    expect(headers).toEqual({ 'x-webhook-id': 'req-1', 'x-webhook-timestamp': String(NOW / 1000), 'x-webhook-signature': signProviderWebhook('secret', NOW / 1000, body) });
    // A known vector: HMAC-SHA256("secret", "1795384800.{...}"), computed independently with openssl.
    expect(signProviderWebhook('secret', 1795384800, body)).toBe('sha256=2ebc949d76ab7f3671c50578e72c6b1653e1b25b0729a18655a11d43f4b2a36d');
    expect(verifyProviderWebhook('secret', headers, body, NOW + 4 * 60_000)).toEqual({ ok: true });
    expect(verifyProviderWebhook('secret', headers, body, NOW - 6 * 60_000)).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verifyProviderWebhook('secret', { ...headers, 'x-webhook-signature': 'sha256=00' }, body, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyProviderWebhook('secret', {}, body, NOW)).toEqual({ ok: false, reason: 'missing_headers' });
  });
});

describe('provider-sim flags', () => {
  it('lay flags over --options JSON and validate as startProviderSim options', () => {
    const o = simOptionsFromFlags({
      host: '127.0.0.1',
      port: 0,
      seed: 's',
      hitRate: 0.4,
      storm: [{ provider: 'apollo', calls: 5 }],
      quota: { pdl: 10 },
      clearbitQueueRate: 1,
      webhookUrl: 'http://127.0.0.1:9/hook',
      options: [{ latencyMs: 20, hitRate: 0.9, storms: [{ provider: 'hunter' }] }],
    });
    const parsed = simOptionsSchema.parse(o);
    expect(parsed).toMatchObject({ seed: 's', hitRate: 0.4, latencyMs: 20, quota: { pdl: 10 }, clearbit: { queueRate: 1, webhookUrl: 'http://127.0.0.1:9/hook', webhookDelayMs: 50 } });
    expect(parsed.storms.map((s) => s.provider)).toEqual(['hunter', 'apollo']);
    expect(simOptionsSchema.safeParse({ ...o, host: '0.0.0.0' }).success).toBe(false);
  });
});
