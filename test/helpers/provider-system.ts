// A test system whose providers point at an in-process simulator on loopback.
import { pino } from 'pino';
import type { RawEnv } from '../../src/config.js';
import type { ProviderSimOptions } from '../../src/providers/sim/options.js';
import { type ProviderSim, startProviderSim } from '../../src/providers/sim/server.js';
import { openServices, startParts, stopParts } from '../../src/runtime/services.js';
import { type TestSystem, createTestDatabase, deletePrefix, testConfig, testPrefix } from './system.js';
import { TEST_JWT_SECRET } from './urls.js';
import { signToken } from '../../src/api/token.js';
import { randomUUID } from 'node:crypto';

export interface ProviderTestSystem extends TestSystem {
  sim: ProviderSim;
}

export interface ProviderSystemOptions {
  /** providers given a key (and so enabled), pointed at the simulator */
  providers: string[];
  sim?: ProviderSimOptions;
  /** more provider variables (limits, secrets, budgets) */
  providerEnv?: RawEnv;
  env?: RawEnv;
  workers?: number;
  /** listen on loopback (for webhooks the simulator posts) */
  listen?: boolean;
}

/** Starts the simulator and a system (API, leader, workers) whose providers ask it. */
export async function startProviderSystem(opts: ProviderSystemOptions): Promise<ProviderTestSystem> {
  const sim = await startProviderSim({ seed: 'tests', ...opts.sim });
  const db = await createTestDatabase('prov');
  const prefix = testPrefix('prov');
  const providerEnv: RawEnv = { ...opts.providerEnv };
  for (const p of opts.providers) {
    providerEnv[`${p.toUpperCase()}_API_KEY`] = `test-key-${p}`;
    providerEnv[`${p.toUpperCase()}_BASE_URL`] = sim.env[`${p.toUpperCase()}_BASE_URL`];
  }
  const config = testConfig({ DATABASE_URL: db.url, QUEUE_PREFIX: prefix, ...providerEnv, ...opts.env });
  const services = openServices(config, pino({ level: 'silent' }));
  const parts = await startParts(services, { api: true, leader: true, workers: opts.workers ?? 1 }, () => true);
  const app = parts.app!;
  if (opts.listen) await app.listen({ port: 0, host: '127.0.0.1' });
  else await app.ready();
  return {
    config,
    services,
    parts,
    app,
    db,
    prefix,
    sim,
    token: (t = {}) => signToken(TEST_JWT_SECRET, { tenantId: t.tenantId ?? randomUUID(), roles: t.roles, ttl: '1h' }),
    async close() {
      await stopParts(parts);
      await services.close();
      await sim.close();
      await deletePrefix(config.redisUrl, prefix);
      await db.drop();
    },
  };
}

/** People the simulator can be asked about (name and company domain, no email). */
export function people(n: number, tag = 'p'): Record<string, string>[] {
  return Array.from({ length: n }, (_, i) => ({ external_id: `${tag}${i}`, first_name: `Ann${tag}${i}`, last_name: 'Lee', domain: `acme${i % 7}.com` }));
}
