// Posts a queued lookup's answer to the configured callback, signed as incoming provider webhooks are.
import { providerWebhookHeaders } from '../webhook-signature.js';

export interface WebhookDelivery {
  url: string;
  /** unsigned when unset */
  secret: string | undefined;
  id: string;
  payload: unknown;
}

/** Sends one webhook; resolves to whether it got a 2xx, never throws. */
export async function postWebhook(d: WebhookDelivery, timeoutMs = 10_000): Promise<boolean> {
  const raw = JSON.stringify(d.payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(d.secret ? providerWebhookHeaders(d.secret, d.id, raw) : {}) };
  try {
    const res = await fetch(d.url, { method: 'POST', headers, body: raw, signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
