// Signatures of incoming provider webhooks (CONTRACT.md): HMAC-SHA256 with <PROVIDER>_WEBHOOK_SECRET
// over the raw body, bound to a timestamp so an old capture cannot be replayed with a fresh date.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const PROVIDER_WEBHOOK_HEADERS = {
  /** unique per delivery: what a receiver remembers to refuse replays */
  id: 'x-webhook-id',
  /** unix seconds when it was signed */
  timestamp: 'x-webhook-timestamp',
  /** `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, the secret's UTF-8 bytes as key */
  signature: 'x-webhook-signature',
} as const;

/** How far a timestamp may be from the receiver's clock. */
export const PROVIDER_WEBHOOK_TOLERANCE_MS = 5 * 60_000;

/** The signature value of one raw body at one time. */
export function signProviderWebhook(secret: string, timestampSeconds: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  mac.update(`${timestampSeconds}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

/** The headers a sender adds to one delivery. */
export function providerWebhookHeaders(secret: string, id: string, rawBody: string | Buffer, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    [PROVIDER_WEBHOOK_HEADERS.id]: id,
    [PROVIDER_WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [PROVIDER_WEBHOOK_HEADERS.signature]: signProviderWebhook(secret, timestamp, rawBody),
  };
}

export type WebhookCheck = { ok: true } | { ok: false; reason: 'missing_headers' | 'stale_timestamp' | 'bad_signature' };

/**
 * Checks a delivery's signature (constant-time) and timestamp window. Replays within the
 * window are the receiver's to refuse, by remembering the id.
 */
export function verifyProviderWebhook(secret: string, headers: Record<string, string | string[] | undefined>, rawBody: string | Buffer, now = Date.now()): WebhookCheck {
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const timestamp = one(PROVIDER_WEBHOOK_HEADERS.timestamp);
  const signature = one(PROVIDER_WEBHOOK_HEADERS.signature);
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing_headers' };
  if (Math.abs(now - Number(timestamp) * 1000) > PROVIDER_WEBHOOK_TOLERANCE_MS) return { ok: false, reason: 'stale_timestamp' };
  const expected = Buffer.from(signProviderWebhook(secret, Number(timestamp), rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: 'bad_signature' };
}
