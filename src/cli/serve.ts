// Runs a long-lived enrichd process (start, api, worker) until SIGTERM or SIGINT.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import { ensureDatabase } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../observability/logger.js';
import { aggregateMetrics, answerMetricsRequests } from '../observability/metrics-ipc.js';
import { startOpsServer } from '../observability/ops-server.js';
import { demoBanner, generateSecret } from '../runtime/demo.js';
import { preflight } from '../runtime/preflight.js';
import { openServices, startParts, stopParts } from '../runtime/services.js';

export interface ServeOptions {
  api: boolean;
  /** worker slots: in this process when 1, child processes when more */
  workers: number;
  /** migrate first and print the demo banner (enrichd start) */
  demo: boolean;
  /** a worker child of a supervisor: answers its parent's metrics requests, serves no port */
  supervised?: boolean;
}

const BIN = fileURLToPath(new URL('../../bin/enrichd', import.meta.url));

/** Runs the process; resolves when it has shut down. */
export async function serve(config: Config, opts: ServeOptions): Promise<void> {
  const log = createLogger(config.logLevel);
  const children = new Set<ChildProcess>();
  let accepting = true;
  let stopping = false;
  // Caught from the first moment: a SIGTERM while starting must not kill the process
  // half-started (exit by signal); it stops it as soon as it has started, with exit 0.
  let stopRequested!: () => void;
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: forcing exit');
      process.exit(1);
    }
    stopping = true;
    accepting = false;
    log.info({ signal }, 'shutting down');
    for (const c of children) c.kill('SIGTERM');
    stopRequested();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await run();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }

  async function run(): Promise<void> {
    const problems = await preflight(config);
    if (problems.length > 0) {
      for (const p of problems) process.stderr.write(`${p}\n`);
      process.exitCode = 1;
      return;
    }
    if (stopping) return;
    let generatedSecret = false;
    if (opts.demo) {
      if (await ensureDatabase(config.databaseUrl)) log.info('database created');
      if (!config.jwt.secret) {
        config = { ...config, jwt: { ...config.jwt, secret: generateSecret() } };
        generatedSecret = true;
      }
    }
    const services = openServices(config, log);
    if (opts.demo) {
      const applied = await migrate(services.pool, config.databaseAppRole);
      if (applied.length > 0) log.info({ applied }, 'migrations applied');
    }
    const inProcessWorkers = opts.workers === 1 ? 1 : 0;
    // With worker children, this process's /metrics is the merge of theirs and its own.
    const renderMetrics = opts.workers > 1 ? () => aggregateMetrics(services.metrics, children) : () => services.metrics.render();
    const parts = await startParts(services, { api: opts.api, leader: true, workers: inProcessWorkers, renderMetrics }, () => accepting);
    if (opts.supervised) answerMetricsRequests(services.metrics);
    const spawnChild = () => {
      if (stopping) return;
      const child = spawn(process.execPath, [BIN, 'worker', '--count', '1', '--supervised'], {
        stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
        env: config.jwt.secret && generatedSecret ? { ...process.env, JWT_SECRET: config.jwt.secret } : process.env,
      });
      children.add(child);
      child.on('exit', (code, signal) => {
        children.delete(child);
        if (!stopping) {
          log.warn({ code, signal }, 'worker process exited; starting another');
          setTimeout(spawnChild, 1000).unref();
        }
      });
    };
    if (opts.workers > 1) for (let i = 0; i < opts.workers; i++) spawnChild();

    const ops = !opts.api && !opts.supervised && config.healthCheckPort !== undefined && !stopping
      ? await startOpsServer({ host: config.host, port: config.healthCheckPort, pool: services.pool, redis: services.redis, accepting: () => accepting, render: renderMetrics, log })
      : undefined;
    if (parts.app && !stopping) {
      await parts.app.listen({ port: config.port, host: config.host });
      const address = parts.app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const baseUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
      if (opts.demo && config.jwt.secret) {
        process.stdout.write(`${await demoBanner({ ...config, jwt: { ...config.jwt, secret: config.jwt.secret } }, services.pool, baseUrl, generatedSecret)}\n`);
      } else {
        log.info({ url: baseUrl }, 'api listening');
      }
    }

    await stopSignal;
    await stopParts(parts);
    await Promise.all([...children].map((c) => new Promise((r) => c.once('exit', r))));
    await ops?.close();
    await services.close();
    log.info('stopped');
    // The caller exits right after: the last lines must be written by then (pino writes async).
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      log.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
