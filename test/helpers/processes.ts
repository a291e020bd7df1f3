// Real processes for failure tests: bin/enrichd children, private redis-servers, a cuttable TCP proxy.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { REDIS_URL, TEST_APP_ROLE, TEST_JWT_SECRET } from './urls.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = `${ROOT}bin/enrichd`;

/** The environment of an enrichd child in a test: its own database and key prefix, intervals fast enough for tests. */
export function childEnv(databaseUrl: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    DATABASE_APP_ROLE: TEST_APP_ROLE,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    POLL_INTERVAL: '200',
    STALLED_INTERVAL: '1000',
    HEALTH_CHECK_INTERVAL: '500',
    GRACEFUL_SHUTDOWN_TIMEOUT: '2000',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Fails early with the fix when the children would run a missing build. */
export function assertBuilt(): void {
  if (!existsSync(`${ROOT}dist/cli/main.js`)) throw new Error('dist/ is missing: run `npm run build` before the process tests');
}

/** A port nothing listens on right now (the OS picks it; a tiny race with other binders remains). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A pino JSON line. */
export interface LogLine {
  level: number;
  msg: string;
  time?: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

// Every child this test process started: killed on cleanup, and on exit if a test runner dies.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Kills (SIGKILL) every child still running; for afterAll/afterEach. */
export async function killAllChildren(): Promise<void> {
  const waits = [...live].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('close', r))));
  for (const c of live) c.kill('SIGKILL');
  await Promise.all(waits);
}

/** A spawned process with its output kept line by line. */
export class Child {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly label: string,
    readonly proc: ChildProcess,
  ) {
    live.add(proc);
    // 'close', not 'exit': by then the pipes are drained, so the output is complete.
    this.exited = new Promise((resolve) => {
      proc.once('close', (code, signal) => {
        live.delete(proc);
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
    });
    proc.once('error', () => undefined);
    collectLines(proc.stdout, this.stdout, () => this.notify());
    collectLines(proc.stderr, this.stderr, () => this.notify());
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** stdout lines that are pino JSON. */
  logs(): LogLine[] {
    const out: LogLine[] = [];
    for (const line of this.stdout) {
      if (!line.startsWith('{')) continue;
      try {
        const v = JSON.parse(line) as LogLine;
        if (typeof v.msg === 'string') out.push(v);
      } catch {
        // a partial or foreign line
      }
    }
    return out;
  }

  /** Everything the child printed, for failure messages. */
  output(): string {
    return `--- ${this.label} (pid ${this.pid}) stdout:\n${this.stdout.join('\n')}\n--- stderr:\n${this.stderr.join('\n')}`;
  }

  /** Waits for a stdout/stderr line matching; fails early (with the output) if the child exits. */
  async waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs = 15_000): Promise<string> {
    const test = typeof match === 'function' ? match : (l: string) => match.test(l);
    return this.waitUntil(() => [...this.stdout, ...this.stderr].find(test), timeoutMs, `a line matching ${String(match)}`);
  }

  /** Waits for a log line with this message (and, optionally, a predicate on it). */
  async waitForLog(msg: string | RegExp, timeoutMs = 15_000, where: (l: LogLine) => boolean = () => true): Promise<LogLine> {
    const matches = (l: LogLine) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)) && where(l);
    return this.waitUntil(() => this.logs().find(matches), timeoutMs, `log "${String(msg)}"`);
  }

  private waitUntil<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const v = probe();
        if (v !== undefined) return done(() => resolve(v));
        if (this.exit) return done(() => reject(new Error(`${this.label} exited (${JSON.stringify(this.exit)}) before ${what}\n${this.output()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.output()}`))), timeoutMs);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        fn();
      };
      this.listeners.add(check);
      check();
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.exit) this.proc.kill(signal);
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves with how it ended. */
  async stop(graceMs = 10_000): Promise<Exit> {
    if (this.exit) return this.exit;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

function collectLines(stream: NodeJS.ReadableStream | null, into: string[], onLine: () => void): void {
  if (!stream) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    if (parts.length === 0) return;
    into.push(...parts);
    onLine();
  });
  stream.on('end', () => {
    if (rest) into.push(rest);
    rest = '';
    onLine();
  });
}

/**
 * Spawns bin/enrichd with only the given environment (plus PATH and HOME), in a directory
 * without a .env, so nothing from the developer's shell leaks in.
 */
export function spawnEnrichd(args: string[], env: Record<string, string | undefined>, label = `enrichd ${args[0] ?? ''}`): Child {
  assertBuilt();
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir() };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: tmpdir(), env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Child(label, proc);
}

/** Runs bin/enrichd to its end; the child is SIGKILLed past timeoutMs. */
export async function runEnrichd(args: string[], env: Record<string, string | undefined>, timeoutMs = 20_000): Promise<Exit & { stdout: string; stderr: string; child: Child }> {
  const child = spawnEnrichd(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  return { ...exit, stdout: child.stdout.join('\n'), stderr: child.stderr.join('\n'), child };
}

/** A redis-server of the test's own, on its own port: safe to stop, restart and flush. */
export class PrivateRedis {
  private proc: Child | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a server on a free port (or the given one). */
  static async start(port?: number): Promise<PrivateRedis> {
    const r = new PrivateRedis(port ?? (await freePort()));
    await r.start();
    return r;
  }

  get running(): boolean {
    return this.proc !== undefined && !this.proc.hasExited;
  }

  /** (Re)starts the server on the same port, empty: nothing is saved. */
  async start(): Promise<void> {
    if (this.running) return;
    const proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', tmpdir(), '--loglevel', 'warning'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = new Child(`redis-server :${this.port}`, proc);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (await this.ping()) return;
      if (this.proc.hasExited || Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start\n${this.proc.output()}`);
      await sleep(25);
    }
  }

  /** Stops the server (SIGTERM, SIGKILL after 3 s) and waits until the port is closed. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p) await p.stop(3000);
  }

  /** Runs one command on a short-lived connection. */
  async command(...args: [string, ...(string | number)[]]): Promise<unknown> {
    const c = new Redis(this.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return await c.call(...args);
    } finally {
      c.disconnect();
    }
  }

  /** Runs commands in one MULTI/EXEC, so nothing else runs between them; returns their replies. */
  async transaction(...commands: [string, ...(string | number)[]][]): Promise<unknown[]> {
    const c = new Redis(this.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const replies = (await c.multi(commands.map(([name, ...args]) => ['call', name, ...args])).exec()) ?? [];
      return replies.map(([err, reply]) => {
        if (err) throw err;
        return reply;
      });
    } finally {
      c.disconnect();
    }
  }

  private async ping(): Promise<boolean> {
    try {
      return (await this.command('PING')) === 'PONG';
    } catch {
      return false;
    }
  }
}

/**
 * A TCP proxy in front of a server (PostgreSQL): cut() closes every connection and stops
 * listening, so the server looks down to whoever goes through the proxy, without touching it.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const p = new TcpProxy(await freePort(), target);
    await p.resume();
    return p;
  }

  /** Listens again on the same port. */
  async resume(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.target);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  /** Drops every connection and refuses new ones until resume(). */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise((r) => server.close(r));
  }
}
