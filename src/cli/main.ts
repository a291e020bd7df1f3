// The enrichd command line: start | api | worker | migrate | token | submit | lists import.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { signToken } from '../api/token.js';
import { ConfigError, type Config, loadConfig } from '../config.js';
import { createPool, ensureDatabase } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { createJobTypeRegistry } from '../jobs/types/registry.js';
import { DEMO_TENANT_ID } from '../runtime/demo.js';
import { preflight } from '../runtime/preflight.js';
import { type ServeOptions, serve } from './serve.js';
import { importListFile, resolveApiAccess } from './lists-import.js';
import { providerSimCommand } from './provider-sim.js';
import { submitJob } from './submit.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/**
 * Exits once a long-running command has shut down. Everything of ours is closed by then, but
 * a library timer may linger (BullMQ's blocking-read watchdog, up to 6 s after a close while
 * Redis is down) and would hold the exit that a supervisor waits for.
 */
async function serveThenExit(c: Config, opts: ServeOptions): Promise<never> {
  await serve(c, opts);
  process.exit();
}

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
  return n;
};

/** A help section naming the environment variables a command reads (the README has them all). */
function envHelp(vars: [string, string][]): string {
  const width = Math.max(...vars.map(([name]) => name.length)) + 2;
  return `\nEnvironment (or .env in the working directory; see the README for every variable):\n${vars.map(([name, text]) => `  ${name.padEnd(width)}${text}`).join('\n')}\n`;
}

const DB_VARS: [string, string][] = [
  ['DATABASE_URL', 'PostgreSQL (default postgres://postgres@127.0.0.1:5432/enrichd)'],
  ['DATABASE_APP_ROLE', 'role of tenant-scoped transactions (default enrichd_app)'],
];
const RUN_VARS: [string, string][] = [
  ...DB_VARS,
  ['REDIS_URL', 'Redis for the queue (default redis://127.0.0.1:6379)'],
  ['QUEUE_PREFIX', 'prefix of every Redis key (default enrichd)'],
  ['POLL_INTERVAL', 'ms between relay and reconciler rounds (default 1000)'],
  ['LOG_LEVEL, DEBUG', 'info by default; DEBUG=enrichd:* for debug logs'],
];
const API_VARS: [string, string][] = [
  ['PORT, HOST', 'where the API listens (default 3000, 127.0.0.1)'],
  ['CRON_SECRET', 'bearer secret of the process endpoint'],
];
const WORKER_VARS: [string, string][] = [
  ['WORKER_COUNT', 'worker processes: in this process for 1, child processes beyond (default 1)'],
  ['MAX_CONCURRENT_JOBS', 'tasks in flight per worker (default 10)'],
  ['STALLED_INTERVAL', "ms: a dead worker's job runs again within two (default 30000)"],
  ['GRACEFUL_SHUTDOWN_TIMEOUT', 'ms running tasks get to finish at SIGTERM (default 30000)'],
];

/** Builds the command tree. */
export function buildProgram(): Command {
  const program = new Command('enrichd')
    .description('Dispatch and run data-enrichment jobs for many tenants (configuration: environment or .env, see README)')
    .showHelpAfterError();

  program
    .command('start')
    .description('migrate, then run the API and workers in this process (WORKER_COUNT), printing a demo tenant, token and curl line')
    .addHelpText('after', envHelp([...RUN_VARS, ...API_VARS, ['JWT_SECRET', 'HS256 key of API tokens; one is made for this run when unset'], ...WORKER_VARS]))
    .action(async () => {
      const c = config();
      await serveThenExit(c, { api: true, workers: c.workerCount, demo: true });
    });

  program
    .command('api')
    .description('run the HTTP API (and leader duties); needs JWT_SECRET')
    .addHelpText('after', envHelp([...RUN_VARS, ...API_VARS, ['JWT_SECRET', 'HS256 key of API tokens (required, at least 16 characters)']]))
    .action(async () => {
      const c = config();
      if (!c.jwt.secret) {
        process.stderr.write('invalid configuration: JWT_SECRET is required by `enrichd api` (`enrichd start` makes one for a demo run)\n');
        process.exit(1);
      }
      await serveThenExit(c, { api: true, workers: 0, demo: false });
    });

  program
    .command('worker')
    .description('run workers: WORKER_COUNT processes (in this process for 1), each with MAX_CONCURRENT_JOBS tasks in flight')
    .option('--count <n>', 'worker processes (default WORKER_COUNT)', int('--count'))
    // How a supervisor starts its children: they answer its metrics requests and serve no port.
    .addOption(new Option('--supervised').hideHelp())
    .addHelpText('after', envHelp([...RUN_VARS, ...WORKER_VARS, ['HEALTH_CHECK_PORT', 'serve /health, /ready and /metrics on this port (default: none)']]))
    .action(async (o: { count?: number; supervised?: boolean }) => {
      const c = config();
      await serveThenExit(c, { api: false, workers: o.count ?? Math.max(1, c.workerCount), demo: false, supervised: o.supervised === true });
    });

  program
    .command('migrate')
    .description('create the database if missing and apply pending migrations (safe to run from several processes at once)')
    .addHelpText('after', envHelp(DB_VARS))
    .action(async () => {
      const c = config();
      const problems = await preflight(c);
      const pgProblem = problems.find((p) => p.startsWith('PostgreSQL'));
      if (pgProblem) {
        process.stderr.write(`${pgProblem}\n`);
        process.exit(1);
      }
      const created = await ensureDatabase(c.databaseUrl);
      const pool = createPool(c.databaseUrl, 2);
      try {
        const applied = await migrate(pool, c.databaseAppRole);
        process.stdout.write(`${created ? 'database created; ' : ''}${applied.length ? `applied: ${applied.join(', ')}` : 'up to date'}\n`);
      } finally {
        await pool.end();
      }
    });

  program
    .command('token')
    .description('print an API token signed with JWT_SECRET')
    .requiredOption('--tenant <uuid>', 'the tenant id (tenant_id claim)')
    .option('--ttl <duration>', 'lifetime: 90s, 30m, 1h, 7d', '1h')
    .option('--admin', 'add the admin role')
    .option('--sub <subject>', 'the sub claim', 'enrichd-cli')
    .addHelpText('after', envHelp([['JWT_SECRET', 'the signing key (required)'], ['JWT_ISSUER, JWT_AUDIENCE', 'iss and aud claims, when set']]))
    .action(async (o: { tenant: string; ttl: string; admin?: boolean; sub: string }) => {
      const c = config();
      if (!c.jwt.secret) {
        process.stderr.write('invalid configuration: JWT_SECRET is required to sign tokens\n');
        process.exit(1);
      }
      if (!UUID.test(o.tenant)) {
        process.stderr.write('--tenant must be a UUID\n');
        process.exit(1);
      }
      const token = await signToken(c.jwt.secret, {
        tenantId: o.tenant.toLowerCase(),
        sub: o.sub,
        roles: o.admin ? ['admin'] : [],
        ttl: o.ttl,
        issuer: c.jwt.issuer,
        audience: c.jwt.audience,
      });
      process.stdout.write(`${token}\n`);
    });

  program
    .command('submit')
    .description('submit a job to a running API and print it (--wait: follow it until it finishes)')
    .argument('<type>', `job type: ${createJobTypeRegistry().names().join(', ')}`)
    .option('--payload <json>', 'the payload as JSON', '{}')
    .option('--priority <n>', '1 (highest) to 5', int('--priority'))
    .option('--delay-ms <ms>', 'run after this delay', int('--delay-ms'))
    .option('--max-attempts <n>', 'attempts per round', int('--max-attempts'))
    .option('--idempotency-key <key>', 'Idempotency-Key header')
    .option('--url <url>', 'API base URL (default http://HOST:PORT)')
    .option('--token <jwt>', 'bearer token (default: one signed with JWT_SECRET for --tenant)')
    .option('--tenant <uuid>', 'tenant for the signed token', DEMO_TENANT_ID)
    .option('--wait', 'wait until the job is completed, failed or cancelled')
    .option('--wait-timeout <ms>', 'give up waiting after this long', int('--wait-timeout'), 600_000)
    .addHelpText('after', envHelp([['PORT, HOST', 'the API when --url is not given'], ['JWT_SECRET', 'signs a token for --tenant when --token is not given']]))
    .action(async (type: string, o: Record<string, string | number | boolean | undefined>) => {
      const c = config();
      let payload: unknown;
      try {
        payload = JSON.parse(String(o.payload));
      } catch {
        process.stderr.write('--payload must be JSON\n');
        process.exit(1);
      }
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
        process.stderr.write('--payload must be a JSON object\n');
        process.exit(1);
      }
      let token = o.token as string | undefined;
      if (!token) {
        if (!c.jwt.secret) {
          process.stderr.write('give --token, or set JWT_SECRET so a token can be signed\n');
          process.exit(1);
        }
        token = await signToken(c.jwt.secret, { tenantId: String(o.tenant), sub: 'enrichd-cli', ttl: '1h', issuer: c.jwt.issuer, audience: c.jwt.audience });
      }
      const url = (o.url as string | undefined) ?? `http://${c.host}:${c.port}`;
      process.exitCode = await submitJob({
        url: url.replace(/\/$/, ''),
        token,
        type,
        payload: payload as Record<string, unknown>,
        priority: o.priority as number | undefined,
        delayMs: o.delayMs as number | undefined,
        maxAttempts: o.maxAttempts as number | undefined,
        idempotencyKey: o.idempotencyKey as string | undefined,
        wait: o.wait === true,
        waitTimeoutMs: o.waitTimeout as number,
        out: (line) => process.stdout.write(`${line}\n`),
      });
    });

  const lists = program.command('lists').description('manage lists on a running API');
  lists
    .command('import')
    .description('stream a CSV file (header row, UTF-8) to POST /v1/lists with progress; prints the new list id and entry count')
    .argument('<file.csv>', 'the CSV file')
    .option('--name <name>', 'the list name (default: the file name without its extension)')
    .option('--url <url>', 'API base URL (default http://HOST:PORT)')
    .option('--token <jwt>', 'bearer token (default: one signed with JWT_SECRET for --tenant)')
    .option('--tenant <uuid>', 'tenant for the signed token', DEMO_TENANT_ID)
    .option('--json', "print the API's answer (id, name, entryCount, columns) as JSON")
    .addHelpText('after', envHelp([['PORT, HOST', 'the API when --url is not given'], ['JWT_SECRET', 'signs a token for --tenant when --token is not given']]))
    .action(async (file: string, o: { name?: string; url?: string; token?: string; tenant: string; json?: boolean }) => {
      const access = await resolveApiAccess(config(), o);
      if ('problem' in access) {
        process.stderr.write(`${access.problem}\n`);
        process.exit(1);
      }
      process.exitCode = await importListFile({
        file,
        name: o.name,
        ...access,
        json: o.json === true,
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
        progress: process.stderr,
      });
    });

  program.addCommand(providerSimCommand());

  program
    .command('bench')
    .description('run the benchmarks in bench/ (as npm run bench): each figure beside its baseline and target, exit 1 on a miss')
    .argument('[names...]', 'only these bench modules, e.g. dispatch')
    .action(async (names: string[]) => {
      const root = fileURLToPath(new URL('../../', import.meta.url));
      const script = join(root, 'bench', 'run.ts');
      if (!existsSync(script)) {
        process.stderr.write('bench/ is not in this installation: run it from a checkout of the repository (npm run bench)\n');
        process.exit(1);
      }
      const child = spawn(process.execPath, ['--import', 'tsx', script, ...names], { cwd: root, stdio: 'inherit' });
      const [code] = (await once(child, 'exit')) as [number | null];
      process.exitCode = code ?? 1;
    });

  return program;
}

/** Entry point of bin/enrichd. */
export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
