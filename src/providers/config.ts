// Provider settings from the environment: keys, base URLs, webhook secrets, and generic providers as data.
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, type RawEnv } from '../config-error.js';
import { type GenericProviderDefinition, genericProvidersSchema } from './adapters/generic-http-schema.js';

export const BUILT_IN_PROVIDERS = ['hunter', 'apollo', 'pdl', 'prospeo', 'clearbit'] as const;
export type BuiltInProvider = (typeof BUILT_IN_PROVIDERS)[number];

/** One built-in provider's settings; present only when its key is set. */
export interface BuiltInSettings {
  apiKey: string;
  /** undefined: the provider's public URL */
  baseUrl: string | undefined;
  webhookSecret: string | undefined;
}

/** A generic provider's definition with its secret resolved. */
export interface GenericSettings {
  definition: GenericProviderDefinition;
  secret: string | undefined;
}

export interface ProviderSettings {
  builtIn: Partial<Record<BuiltInProvider, BuiltInSettings>>;
  generic: GenericSettings[];
  /** per call, ms */
  timeoutMs: number;
}

const isSet = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

function httpUrl(variable: string, value: string): string {
  try {
    const u = new URL(value);
    if (u.protocol === 'http:' || u.protocol === 'https:') return value.replace(/\/+$/, '');
  } catch {
    // reported below
  }
  throw new ConfigError(variable, `must be a URL starting with http:// or https:// (got "${value.slice(0, 40)}")`);
}

/**
 * GENERIC_PROVIDERS holds a JSON array of definitions, or the path of a file holding one;
 * GENERIC_PROVIDERS is this module's own name (CONTRACT.md names none for it).
 */
function genericDefinitions(raw: string | undefined): GenericProviderDefinition[] {
  if (!isSet(raw)) return [];
  const trimmed = raw.trim();
  let json: string;
  if (trimmed.startsWith('[')) json = trimmed;
  else if (existsSync(trimmed)) json = readFileSync(trimmed, 'utf8');
  else throw new ConfigError('GENERIC_PROVIDERS', 'must be a JSON array of provider definitions or the path of a file holding one');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ConfigError('GENERIC_PROVIDERS', 'is not valid JSON');
  }
  const checked = genericProvidersSchema.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new ConfigError('GENERIC_PROVIDERS', `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'is invalid'}`);
  }
  const names = new Set<string>(BUILT_IN_PROVIDERS);
  for (const def of checked.data) {
    if (names.has(def.name)) throw new ConfigError('GENERIC_PROVIDERS', `names "${def.name}" twice (or a built-in provider)`);
    names.add(def.name);
  }
  return checked.data;
}

/** Reads provider settings from an env record (the caller merges .env); a bad value throws ConfigError. */
export function loadProviderSettings(env: RawEnv): ProviderSettings {
  const builtIn: ProviderSettings['builtIn'] = {};
  for (const name of BUILT_IN_PROVIDERS) {
    const prefix = name.toUpperCase();
    const apiKey = env[`${prefix}_API_KEY`];
    const baseUrl = env[`${prefix}_BASE_URL`];
    const parsedBase = isSet(baseUrl) ? httpUrl(`${prefix}_BASE_URL`, baseUrl.trim()) : undefined;
    if (!isSet(apiKey)) continue;
    const secret = env[`${prefix}_WEBHOOK_SECRET`];
    builtIn[name] = { apiKey: apiKey.trim(), baseUrl: parsedBase, webhookSecret: isSet(secret) ? secret : undefined };
  }
  const generic = genericDefinitions(env.GENERIC_PROVIDERS).map((definition) => {
    const variable = definition.request.auth?.valueFrom;
    const secret = variable === undefined ? undefined : env[variable];
    return { definition, secret: isSet(secret) ? secret.trim() : undefined };
  });
  const timeout = env.PROVIDER_TIMEOUT_MS;
  let timeoutMs = 10_000;
  if (isSet(timeout)) {
    timeoutMs = Number(timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 120_000) throw new ConfigError('PROVIDER_TIMEOUT_MS', `must be an integer from 1 to 120000 (got "${timeout}")`);
  }
  return { builtIn, generic, timeoutMs };
}

const WEBHOOK_SECRET = /^([A-Z][A-Z0-9_]*)_WEBHOOK_SECRET$/;

/** Every <PROVIDER>_WEBHOOK_SECRET that is set, by lower-case provider name (incoming provider webhooks). */
export function loadWebhookSecrets(env: RawEnv): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const [variable, value] of Object.entries(env)) {
    const name = WEBHOOK_SECRET.exec(variable)?.[1];
    if (name !== undefined && isSet(value)) secrets[name.toLowerCase()] = value;
  }
  return secrets;
}

/**
 * TENANT_CREDIT_BUDGET (this module's own variable): credits one tenant may spend on provider
 * lookups per calendar month (UTC); unset: no budget.
 */
export function loadTenantCreditBudget(env: RawEnv): number | undefined {
  const raw = env.TENANT_CREDIT_BUDGET;
  if (!isSet(raw)) return undefined;
  const n = Number(raw.trim());
  if (!Number.isFinite(n) || n < 0) throw new ConfigError('TENANT_CREDIT_BUDGET', `must be a number of credits, 0 or more (got "${raw.slice(0, 40)}")`);
  return n;
}
