// The provider simulator in a process of its own (`enrichd provider-sim`), as a provider is a
// server of its own: in the bench's process, the bench's own work (polling, sampling, garbage
// collection) delayed the simulator's stamps of arrivals and bunched them, which read as calls
// arriving later than they did.
import type { SimStats } from '../../src/providers/sim/stats.js';
import { type Child, freePort, spawnNode } from './proc.js';

export interface SimProcess {
  child: Child;
  /** the Hunter base URL the workers are pointed at */
  hunterUrl: string;
  reset(): Promise<void>;
  stats(): Promise<SimStats>;
}

/** Starts `enrichd provider-sim` from the bench's build and waits until it listens. */
export async function startSimProcess(bin: string, args: string[]): Promise<SimProcess> {
  const port = await freePort();
  const child = spawnNode('provider simulator', [bin, 'provider-sim', '--port', String(port), ...args], { env: {} });
  const until = Date.now() + 15_000;
  let hunterUrl: string | undefined;
  while (hunterUrl === undefined) {
    if (!child.alive) throw new Error(`provider-sim exited early\n${child.tail}`);
    if (Date.now() > until) throw new Error(`provider-sim did not start\n${child.tail}`);
    hunterUrl = /HUNTER_BASE_URL=(\S+)/.exec(child.tail)?.[1];
    if (hunterUrl === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  const control = `http://127.0.0.1:${port}/__sim`;
  return {
    child,
    hunterUrl,
    async reset() {
      const res = await fetch(`${control}/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`simulator reset: ${res.status}`);
    },
    async stats() {
      const res = await fetch(`${control}/stats`);
      if (!res.ok) throw new Error(`simulator stats: ${res.status}`);
      return (await res.json()) as SimStats;
    },
  };
}
