// The provider simulator: one loopback HTTP server speaking every simulated provider under /<provider>/...
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApolloSpec } from './apollo.js';
import { createClearbitSpec } from './clearbit.js';
import { unit } from './hash.js';
import { createHunterSpec } from './hunter.js';
import { type ProviderSimOptions, type ResolvedSimOptions, SIM_PROVIDERS, type SimProviderName, behaviourOf, simOptionsSchema } from './options.js';
import { createPdlSpec } from './pdl.js';
import { identityKey, knows, personFor } from './person.js';
import { createProspeoSpec } from './prospeo.js';
import { type SimCallKind, type SimStats, emptyStats } from './stats.js';
import { type SimContext, type SimLookup, type SimProviderSpec, type SimReply, type SimRequest, isReply } from './spec.js';
import { postWebhook } from './webhook.js';

export interface ProviderSim {
  /** http://host:port of the server */
  url: string;
  /** what each adapter's base URL should be to talk to the simulator */
  baseUrls: Record<SimProviderName, string>;
  /** <PROVIDER>_BASE_URL lines for enrichd's environment */
  env: Record<string, string>;
  /** a snapshot of the counters (also GET /__sim/stats) */
  stats(): SimStats;
  /** zeroes counters, storms, quotas and the providers' memories (also POST /__sim/reset) */
  reset(): void;
  /** changes behaviour from now on: the patch is laid over the options given at start (also POST /__sim/options) */
  update(patch: ProviderSimOptions): void;
  close(): Promise<void>;
}

// Where each adapter's base URL ends, below /<provider>.
const BASE_PATHS: Record<SimProviderName, string> = { hunter: '/v2', apollo: '/api/v1', pdl: '/v5', prospeo: '', clearbit: '' };
const MAX_BODY = 1024 * 1024;

/** Reads a request body up to 1 MiB. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, reply: SimReply, extraHeaders: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const body = reply.body === null || reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...(body ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...extraHeaders, ...reply.headers });
  res.end(body);
}

/** Starts the simulator; resolves once it listens. */
export async function startProviderSim(options: ProviderSimOptions = {}): Promise<ProviderSim> {
  let input: ProviderSimOptions = options;
  let opts: ResolvedSimOptions = simOptionsSchema.parse(options);
  let specs = new Map<string, SimProviderSpec>();
  let stats = emptyStats(Date.now());
  let stormState: { served: number; firstAt: number | null }[] = [];
  // Lookups that reached an answer, per provider (what a quota counts), and who each account enriched before.
  let answered: Record<string, number> = {};
  let seen = new Set<string>();
  let delivered = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const hung = new Set<ServerResponse>();

  function resetState(): void {
    specs = new Map<string, SimProviderSpec>([
      ['hunter', createHunterSpec()],
      ['apollo', createApolloSpec()],
      ['pdl', createPdlSpec()],
      ['prospeo', createProspeoSpec()],
      ['clearbit', createClearbitSpec()],
    ]);
    stats = emptyStats(Date.now());
    stormState = opts.storms.map(() => ({ served: 0, firstAt: null }));
    answered = {};
    seen = new Set();
    delivered = new Set();
  }
  resetState();

  const later = (ms: number, fn: () => void): NodeJS.Timeout => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  /** The storm throttling this call, if one is raging for the provider. */
  function storm(provider: SimProviderName, callNumber: number, now: number) {
    for (const [i, s] of opts.storms.entries()) {
      const state = stormState[i];
      if (!state || (s.provider !== '*' && s.provider !== provider) || callNumber <= s.afterCalls) continue;
      if (s.calls !== undefined && state.served >= s.calls) continue;
      if (s.durationMs !== undefined && state.firstAt !== null && now - state.firstAt >= s.durationMs) continue;
      state.served += 1;
      state.firstAt ??= now;
      return s;
    }
    return undefined;
  }

  /** Posts a queued Clearbit answer after the configured delay. */
  function scheduleWebhook(lookup: SimLookup, reply: SimReply, credits: number, key: string): void {
    const { webhookUrl, webhookSecret, webhookDelayMs } = opts.clearbit;
    if (!webhookUrl) return;
    const id = typeof lookup.flags.webhookId === 'string' ? lookup.flags.webhookId : randomUUID();
    const type = lookup.endpoint === 'companies/find' ? 'company' : lookup.endpoint === 'people/find' ? 'person' : 'person_company';
    const payload = { id, status: reply.status, type, body: reply.status === 200 ? reply.body : null };
    later(webhookDelayMs, () => {
      stats.webhooks.sent += 1;
      stats.providers.clearbit.credits += credits;
      delivered.add(key);
      void postWebhook({ url: webhookUrl, secret: webhookSecret, id, payload }).then((ok) => {
        if (ok) stats.webhooks.delivered += 1;
        else stats.webhooks.failed += 1;
      });
    });
  }

  /** Decides the answer to one call; 'hang' holds it open (a timeout). */
  function decide(spec: SimProviderSpec, endpoint: string, req: SimRequest, ctx: SimContext): { reply: SimReply | 'hang'; kind: SimCallKind; credits: number } {
    const name = spec.name;
    if (!spec.authorized(req, opts.apiKey)) return { reply: spec.unauthorized(), kind: 'unauthorized', credits: 0 };
    const parsed = spec.parse(endpoint, req);
    if (isReply(parsed)) return { reply: parsed, kind: 'bad_request', credits: 0 };
    const raging = storm(name, ctx.callNumber, ctx.now);
    if (raging) return { reply: spec.throttled(raging.status ?? spec.throttleStatus, raging.retryAfterSeconds), kind: 'throttled', credits: 0 };
    const quota = opts.quota[name];
    if (quota !== undefined && (answered[name] ?? 0) >= quota) return { reply: spec.quotaExhausted(), kind: 'quota_exhausted', credits: 0 };
    const b = behaviourOf(opts, name);
    if (unit(opts.seed, 'timeout', name, ctx.callNumber) < b.timeoutRate) return { reply: 'hang', kind: 'timeout', credits: 0 };
    if (unit(opts.seed, 'error', name, ctx.callNumber) < b.errorRate) return { reply: spec.serverError(), kind: 'error', credits: 0 };

    answered[name] = (answered[name] ?? 0) + 1;
    const key = identityKey(parsed.input);
    const person = key !== '' && knows(opts.seed, name, key, b.hitRate) ? personFor(opts.seed, parsed.input) : null;
    const forbidden = name === 'hunter' && key !== '' && unit(opts.seed, 'forbidden', key) < opts.forbiddenRate;
    const seenKey = `${name}\u0000${key}`;
    const answer = spec.answer(parsed, person, { ...ctx, seenBefore: seen.has(seenKey) }, forbidden);
    if (answer.kind === 'hit') seen.add(seenKey);
    const queueKey = `${endpoint}\u0000${key}`;
    // Clearbit queues a record it has not looked up yet; once its webhook went out, it answers at once.
    if (name === 'clearbit' && !delivered.has(queueKey) && unit(opts.seed, 'queue', queueKey) < opts.clearbit.queueRate) {
      scheduleWebhook(parsed, answer.reply, answer.credits, queueKey);
      return { reply: { status: 202, body: null }, kind: 'queued', credits: 0 };
    }
    return { reply: answer.reply, kind: answer.kind, credits: answer.credits };
  }

  async function handleProvider(spec: SimProviderSpec, endpoint: string, req: IncomingMessage, res: ServerResponse, url: URL, raw: string, arrivedAt: number): Promise<void> {
    const name = spec.name;
    const now = arrivedAt;
    const st = stats.providers[name];
    st.calls += 1;
    st.arrivals.push(now);
    st.byEndpoint[endpoint] = (st.byEndpoint[endpoint] ?? 0) + 1;
    let body: unknown = null;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        st.outcomes.bad_request += 1;
        send(res, { status: 400, body: { error: 'body is not JSON' } });
        return;
      }
    }
    const path = url.pathname.slice(name.length + 1) || '/';
    const sreq: SimRequest = { method: req.method ?? 'GET', path, query: url.searchParams, headers: req.headers, body };
    const ctx: SimContext = { seed: opts.seed, now, callNumber: st.calls, seenBefore: false };
    const { reply, kind, credits } = decide(spec, endpoint, sreq, ctx);
    st.outcomes[kind] += 1;
    st.credits += credits;
    if (reply === 'hang') {
      hung.add(res);
      const t = later(opts.hangMs, () => res.destroy());
      // The client gave up first (its timeout): nothing left to hold.
      res.on('close', () => {
        hung.delete(res);
        clearTimeout(t);
        timers.delete(t);
      });
      return;
    }
    const b = behaviourOf(opts, name);
    const delay = b.latencyMs + Math.floor(unit(opts.seed, 'latency', name, ctx.callNumber) * b.latencyJitterMs);
    // Rate-limit headers count every authenticated call; 401s carry none (as Apollo documents).
    const extra = kind === 'unauthorized' ? {} : spec.headers(ctx);
    if (delay > 0) later(delay, () => send(res, reply, extra));
    else send(res, reply, extra);
  }

  function handleControl(req: IncomingMessage, res: ServerResponse, url: URL, raw: string): void {
    if (req.method === 'GET' && url.pathname === '/__sim/stats') return send(res, { status: 200, body: stats });
    if (req.method === 'POST' && url.pathname === '/__sim/reset') {
      resetState();
      return send(res, { status: 200, body: { ok: true } });
    }
    if (req.method === 'POST' && url.pathname === '/__sim/options') {
      try {
        update(JSON.parse(raw || '{}') as ProviderSimOptions);
        return send(res, { status: 200, body: { ok: true } });
      } catch (err) {
        return send(res, { status: 400, body: { error: (err as Error).message } });
      }
    }
    send(res, { status: 404, body: { error: 'unknown simulator route' } });
  }

  function update(patch: ProviderSimOptions): void {
    const next = { ...input, ...patch };
    opts = simOptionsSchema.parse(next);
    input = next;
    stormState = opts.storms.map(() => ({ served: 0, firstAt: null }));
  }

  const server: Server = createServer((req, res) => {
    // A provider counts a call when it reaches it: stamped as the request comes in, before its
    // body is read (a turn of this event loop later, which on a busy machine can be long).
    const arrivedAt = Date.now();
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://sim.invalid');
      let raw: string;
      try {
        raw = await readBody(req);
      } catch {
        return send(res, { status: 413, body: { error: 'body too large' } });
      }
      if (url.pathname.startsWith('/__sim/')) return handleControl(req, res, url, raw);
      const name = url.pathname.split('/')[1] ?? '';
      const spec = specs.get(name);
      const endpoint = spec?.route(req.method ?? 'GET', url.pathname.slice(name.length + 1) || '/') ?? null;
      if (!spec || endpoint === null) return send(res, { status: 404, body: { error: 'no such simulated endpoint' } });
      await handleProvider(spec, endpoint, req, res, url, raw, arrivedAt);
    })().catch(() => {
      if (!res.headersSent) send(res, { status: 500, body: { error: 'simulator failure' } });
    });
  });
  // Many clients at once in benches: keep sockets open between calls.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const baseUrls = {} as Record<SimProviderName, string>;
  const env: Record<string, string> = {};
  for (const p of SIM_PROVIDERS) {
    baseUrls[p] = `${url}/${p}${BASE_PATHS[p]}`;
    env[`${p.toUpperCase()}_BASE_URL`] = baseUrls[p];
  }

  return {
    url,
    baseUrls,
    env,
    stats: () => structuredClone(stats),
    reset: resetState,
    update,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
