// `enrichd provider-sim`: runs the provider simulator on loopback until SIGTERM or SIGINT.
import { once } from 'node:events';
import { Command, InvalidArgumentError } from 'commander';
import { SIM_PROVIDERS, type ProviderSimOptions, simOptionsSchema } from '../providers/sim/options.js';
import { startProviderSim } from '../providers/sim/server.js';

const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
  return n;
};

const json = (name: string) => (v: string, previous: unknown[] | undefined) => {
  try {
    return [...(previous ?? []), JSON.parse(v) as unknown];
  } catch {
    throw new InvalidArgumentError(`${name} must be JSON`);
  }
};

const quotaPair = (v: string, previous: Record<string, number> | undefined) => {
  const m = /^([a-z]+)=(\d+)$/.exec(v);
  if (!m || !(SIM_PROVIDERS as readonly string[]).includes(m[1] ?? '')) throw new InvalidArgumentError(`--quota takes <provider>=<calls>, provider one of ${SIM_PROVIDERS.join(', ')}`);
  return { ...previous, [m[1] ?? '']: Number(m[2]) };
};

interface Flags {
  host: string;
  port: number;
  seed: string;
  hitRate?: number;
  latencyMs?: number;
  latencyJitterMs?: number;
  errorRate?: number;
  timeoutRate?: number;
  forbiddenRate?: number;
  storm?: unknown[];
  quota?: Record<string, number>;
  clearbitQueueRate?: number;
  webhookUrl?: string;
  webhookSecret?: string;
  webhookDelayMs?: number;
  apiKey?: string;
  options?: unknown[];
}

/** The simulator's options from the command's flags (--options JSON first, flags over it). */
export function simOptionsFromFlags(f: Flags): ProviderSimOptions {
  const base = Object.assign({}, ...((f.options ?? []) as object[])) as ProviderSimOptions;
  const clearbit = { ...base.clearbit };
  if (f.clearbitQueueRate !== undefined) clearbit.queueRate = f.clearbitQueueRate;
  if (f.webhookUrl !== undefined) clearbit.webhookUrl = f.webhookUrl;
  if (f.webhookSecret !== undefined) clearbit.webhookSecret = f.webhookSecret;
  if (f.webhookDelayMs !== undefined) clearbit.webhookDelayMs = f.webhookDelayMs;
  const picked: ProviderSimOptions = {
    ...base,
    host: f.host as ProviderSimOptions['host'],
    port: f.port,
    seed: f.seed,
    clearbit,
    storms: [...(base.storms ?? []), ...((f.storm ?? []) as NonNullable<ProviderSimOptions['storms']>)],
    quota: { ...base.quota, ...f.quota },
  };
  for (const k of ['hitRate', 'latencyMs', 'latencyJitterMs', 'errorRate', 'timeoutRate', 'forbiddenRate', 'apiKey'] as const) {
    if (f[k] !== undefined) Object.assign(picked, { [k]: f[k] });
  }
  return picked;
}

/** The provider-sim command. */
export function providerSimCommand(): Command {
  return new Command('provider-sim')
    .description('run a loopback simulator of Hunter, Apollo, PDL, Prospeo and Clearbit (deterministic from --seed) for tests, demos and benchmarks')
    .option('--host <host>', 'loopback address: 127.0.0.1, ::1 or localhost', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', num('--port'), 4010)
    .option('--seed <seed>', 'same seed and input, same answer', '1')
    .option('--hit-rate <0..1>', 'share of people a provider knows (default 0.7)', num('--hit-rate'))
    .option('--latency-ms <ms>', 'delay before every answer', num('--latency-ms'))
    .option('--latency-jitter-ms <ms>', 'up to this much more, drawn per call', num('--latency-jitter-ms'))
    .option('--error-rate <0..1>', 'share of calls answered 500', num('--error-rate'))
    .option('--timeout-rate <0..1>', 'share of calls never answered', num('--timeout-rate'))
    .option('--forbidden-rate <0..1>', "share of people Hunter answers 451 for", num('--forbidden-rate'))
    .option('--storm <json>', 'a 429/403 storm, repeatable: {"provider":"apollo"|"*","afterCalls":0,"calls":50,"durationMs":2000,"retryAfterSeconds":1}', json('--storm'))
    .option('--quota <provider=calls>', 'answer "out of credits" after this many answered lookups, repeatable', quotaPair)
    .option('--clearbit-queue-rate <0..1>', 'share of Clearbit lookups answered 202 and posted to --webhook-url', num('--clearbit-queue-rate'))
    .option('--webhook-url <url>', "where queued Clearbit answers are posted")
    .option('--webhook-secret <secret>', 'signs them (HMAC-SHA256 over "<timestamp>.<raw body>")')
    .option('--webhook-delay-ms <ms>', 'after the 202 (default 50)', num('--webhook-delay-ms'))
    .option('--api-key <key>', 'the key every provider requires (default: any non-empty key)')
    .option('--options <json>', 'every option as JSON (the flags above win), as startProviderSim() takes them', json('--options'))
    .addHelpText(
      'after',
      '\nPoint enrichd at it with the printed <PROVIDER>_BASE_URL lines (and any <PROVIDER>_API_KEY).\nGET /__sim/stats: calls, outcomes, credits and arrival times per provider; POST /__sim/reset; POST /__sim/options.\n',
    )
    .action(async (flags: Flags) => {
      const options = simOptionsFromFlags(flags);
      const checked = simOptionsSchema.safeParse(options);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        process.stderr.write(`invalid simulator options: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}\n`);
        process.exit(1);
      }
      const sim = await startProviderSim(options);
      process.stdout.write(`provider simulator listening on ${sim.url} (seed ${checked.data.seed})\n`);
      for (const [k, v] of Object.entries(sim.env)) process.stdout.write(`${k}=${v}\n`);
      await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
      await sim.close();
    });
}
