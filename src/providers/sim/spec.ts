// What each simulated provider tells the server: its routes, how it reads a request, how it answers.
import type { IncomingHttpHeaders } from 'node:http';
import type { SimProviderName } from './options.js';
import type { SimInput, SimPerson } from './person.js';

export interface SimRequest {
  method: string;
  /** the path below /<provider>, e.g. /v2/email-finder */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** parsed JSON for POST, null otherwise */
  body: unknown;
}

export interface SimReply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** A request the provider accepts: which endpoint, about whom, and what was asked. */
export interface SimLookup {
  endpoint: string;
  input: SimInput;
  /** provider-specific request flags (Prospeo's enrich_mobile, Clearbit's webhook_id, PDL's required) */
  flags: Record<string, string | boolean | undefined>;
}

/** What an answered lookup counts as, and what the provider bills for it. */
export interface SimAnswer {
  reply: SimReply;
  kind: 'hit' | 'miss' | 'forbidden' | 'queued';
  credits: number;
}

/** Facts of the call the spec may use. */
export interface SimContext {
  seed: string;
  now: number;
  /** this provider's calls so far, this one included */
  callNumber: number;
  /** whether this account enriched this person before (Prospeo does not bill again) */
  seenBefore: boolean;
}

export interface SimProviderSpec {
  name: SimProviderName;
  /** the endpoint a method and path name, or null (404) */
  route(method: string, path: string): string | null;
  authorized(req: SimRequest, apiKey: string | undefined): boolean;
  /** reads the lookup, or answers 400 for a request the real provider refuses */
  parse(endpoint: string, req: SimRequest): SimLookup | SimReply;
  /** the answer for a known person (a hit) or for no one (null: a miss) */
  answer(lookup: SimLookup, person: SimPerson | null, ctx: SimContext, forbidden: boolean): SimAnswer;
  unauthorized(): SimReply;
  throttled(status: 403 | 429, retryAfterSeconds: number | undefined): SimReply;
  quotaExhausted(): SimReply;
  serverError(): SimReply;
  /** headers every answer carries (rate-limit figures) */
  headers(ctx: SimContext): Record<string, string>;
  /** the status this provider throttles with */
  throttleStatus: 403 | 429;
}

/** True when a parse produced a reply (a refusal) rather than a lookup. */
export function isReply(v: SimLookup | SimReply): v is SimReply {
  return 'status' in v;
}

/** A header's first value. */
export function header(req: SimRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A string field of a JSON body. */
export function field(body: unknown, key: string): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const v = (body as Record<string, unknown>)[key];
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/** A query parameter, undefined when empty. */
export function param(req: SimRequest, key: string): string | undefined {
  const v = req.query.get(key);
  return v === null || v.trim() === '' ? undefined : v;
}

/** Whether a presented key is acceptable: the configured one, or any non-empty one. */
export function keyOk(presented: string | undefined, apiKey: string | undefined): boolean {
  return presented !== undefined && presented !== '' && (apiKey === undefined || presented === apiKey);
}
