// Shared by the provider tests: fixtures on disk, a loopback server replaying one, adapters by name.
import { readFileSync, readdirSync } from 'node:fs';
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApolloProvider } from '../../../src/providers/adapters/apollo.js';
import { createClearbitProvider } from '../../../src/providers/adapters/clearbit.js';
import { createHunterProvider } from '../../../src/providers/adapters/hunter.js';
import { createPdlProvider } from '../../../src/providers/adapters/pdl.js';
import { createProspeoProvider } from '../../../src/providers/adapters/prospeo.js';
import type { LookupInput, Provider } from '../../../src/providers/provider.js';
import type { ProviderSimOptions, SimProviderName } from '../../../src/providers/sim/options.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/providers/', import.meta.url));

export interface Fixture {
  file: string;
  provider: SimProviderName;
  source: string;
  input: LookupInput;
  request: { method: string; path: string; query?: Record<string, string>; body?: Record<string, unknown>; auth: { header?: string; basic?: string } };
  response: { status: number; headers: Record<string, string>; body: unknown };
  expect: Record<string, unknown> & { outcome: string };
  sim?: ProviderSimOptions;
}

export interface WebhookFixture {
  file: string;
  source: string;
  want: LookupInput['want'];
  payload: unknown;
  expect: Record<string, unknown> & { outcome: string };
}

/** Every fixture file of every provider. */
export function loadFixtures(): { calls: Fixture[]; webhooks: WebhookFixture[] } {
  const calls: Fixture[] = [];
  const webhooks: WebhookFixture[] = [];
  for (const provider of readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(FIXTURES, provider.name)).filter((f) => f.endsWith('.json')).sort()) {
      const data = JSON.parse(readFileSync(join(FIXTURES, provider.name, file), 'utf8')) as Record<string, unknown>;
      const name = `${provider.name}/${file}`;
      if (data.webhook === true) webhooks.push({ ...(data as unknown as WebhookFixture), file: name });
      else calls.push({ ...(data as unknown as Fixture), file: name, provider: provider.name as SimProviderName });
    }
  }
  return { calls, webhooks };
}

// The path each adapter's base URL ends with, as on the provider's own host.
export const BASE_PATHS: Record<SimProviderName, string> = { hunter: '/v2', apollo: '/api/v1', pdl: '/v5', prospeo: '', clearbit: '' };

/** The adapter of a provider, pointed at a base URL. */
export function adapterFor(provider: SimProviderName, baseUrl: string, apiKey = 'test-key', timeoutMs = 5_000): Provider {
  const o = { apiKey, baseUrl, timeoutMs };
  switch (provider) {
    case 'hunter':
      return createHunterProvider(o);
    case 'apollo':
      return createApolloProvider(o);
    case 'pdl':
      return createPdlProvider(o);
    case 'prospeo':
      return createProspeoProvider(o);
    case 'clearbit':
      return createClearbitProvider({ ...o, newRequestId: () => 'req-1' });
  }
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface Replay {
  url: string;
  requests: RecordedRequest[];
  /** the answer to give from now on */
  answer(response: Fixture['response']): void;
  close(): Promise<void>;
}

/** A loopback server that records every request and answers the set response. */
export async function startReplay(): Promise<Replay> {
  let current: Fixture['response'] = { status: 500, headers: {}, body: { error: 'no fixture set' } };
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://replay.invalid');
      const raw = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: raw ? JSON.parse(raw) : null });
      const body = current.body === null ? '' : JSON.stringify(current.body);
      res.writeHead(current.status, { ...(body ? { 'content-type': 'application/json' } : {}), ...current.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (r) => {
      current = r;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Where a fixture's body and another body differ in shape: keys missing or of another JSON type (null matches anything). */
export function shapeDifferences(expected: unknown, actual: unknown, path = '$'): string[] {
  if (expected === null || actual === null) return [];
  const kind = (v: unknown) => (Array.isArray(v) ? 'array' : typeof v);
  if (kind(expected) !== kind(actual)) return [`${path}: ${kind(expected)} expected, got ${kind(actual)}`];
  if (Array.isArray(expected) && Array.isArray(actual)) {
    return expected.length > 0 && actual.length > 0 ? shapeDifferences(expected[0], actual[0], `${path}[0]`) : [];
  }
  if (kind(expected) !== 'object') return [];
  const a = actual as Record<string, unknown>;
  return Object.entries(expected as Record<string, unknown>).flatMap(([k, v]) => (k in a ? shapeDifferences(v, a[k], `${path}.${k}`) : [`${path}.${k}: missing`]));
}
