// Child processes of the bench: spawned with their output kept, stopped by their own pid only.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const live = new Set<Child>();

/** A spawned process and the tail of its output (shown when it dies early). */
export class Child {
  private output = '';
  private exited = false;
  readonly exit: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-8000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exit = new Promise((resolve) => {
      proc.once('exit', (code) => {
        this.exited = true;
        live.delete(this);
        resolve(code);
      });
    });
    live.add(this);
  }

  /** The last few KB the process printed. */
  get tail(): string {
    return this.output;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Resolves with the first IPC message that matches, or rejects if the process exits first. */
  async message<M>(match: (m: unknown) => m is M, timeoutMs = 30_000): Promise<M> {
    return new Promise<M>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${this.name}: no message within ${timeoutMs} ms\n${this.tail}`)), timeoutMs);
      const onMessage = (m: unknown) => {
        if (match(m)) done(undefined, m);
      };
      const onExit = (code: number | null) => done(new Error(`${this.name} exited (${code}) early\n${this.tail}`));
      const done = (err?: Error, m?: M) => {
        clearTimeout(timer);
        this.proc.off('message', onMessage);
        this.proc.off('exit', onExit);
        if (err) reject(err);
        else resolve(m as M);
      };
      this.proc.on('message', onMessage);
      this.proc.once('exit', onExit);
    });
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(timer);
  }
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** open an IPC channel (bench child scripts report over it) */
  ipc?: boolean;
}

/** Starts a node script (e.g. a build's bin/enrichd) with arguments. */
export function spawnNode(name: string, args: string[], opts: SpawnOptions): Child {
  return start(name, args, opts);
}

/** Starts a TypeScript script under bench/ through tsx. */
export function spawnScript(name: string, script: string, opts: SpawnOptions): Child {
  return start(name, ['--import', 'tsx', `${ROOT}${script}`], opts);
}

function start(name: string, args: string[], opts: SpawnOptions): Child {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...opts.env },
    stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  return new Child(name, proc);
}

/** Stops every child still running (on the way out, also after a failure). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(5000)));
}

const cleanups = new Set<() => Promise<void>>();

/** Registers a cleanup for an interrupted run; the returned function unregisters it. */
export function onInterrupt(fn: () => Promise<void>): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Stops the children, then runs the registered cleanups (database drop, key delete). */
export async function interrupted(): Promise<void> {
  await stopAll();
  for (const fn of cleanups) await fn().catch(() => undefined);
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/** Polls an HTTP URL until it answers 200, or throws with the child's output. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!child.alive) throw new Error(`${child.name} exited before it was ready\n${child.tail}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name} not ready at ${url} within ${timeoutMs} ms\n${child.tail}`);
}
