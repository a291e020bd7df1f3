// Provider settings from the environment, and the registry of enabled adapters they build.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config.js';
import { loadProviderSettings } from '../../../src/providers/config.js';
import { createProviderRegistry } from '../../../src/providers/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'enrichd-providers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const generic = [{ name: 'acme', wants: ['email'], request: { url: 'https://api.acme.test/find?d={domain}', auth: { valueFrom: 'ACME_KEY' } }, response: { value: 'email' } }];

describe('loadProviderSettings', () => {
  it('turns on a built-in adapter only when its key is set, with its public URL unless one is given', () => {
    const s = loadProviderSettings({ HUNTER_API_KEY: 'h', PDL_API_KEY: ' p ', PDL_BASE_URL: 'http://127.0.0.1:4010/pdl/v5/', APOLLO_API_KEY: '  ', CLEARBIT_WEBHOOK_SECRET: 'x' });
    expect(Object.keys(s.builtIn).sort()).toEqual(['hunter', 'pdl']);
    expect(s.builtIn.hunter).toEqual({ apiKey: 'h', baseUrl: undefined, webhookSecret: undefined });
    expect(s.builtIn.pdl).toEqual({ apiKey: 'p', baseUrl: 'http://127.0.0.1:4010/pdl/v5', webhookSecret: undefined });
    expect(s.timeoutMs).toBe(10_000);
    expect(loadProviderSettings({}).builtIn).toEqual({});
  });

  it('stops at a bad value, naming the variable', () => {
    const err = (env: Record<string, string>) => {
      try {
        loadProviderSettings(env);
      } catch (e) {
        return e instanceof ConfigError ? e.variable : 'other';
      }
      return null;
    };
    expect(err({ APOLLO_API_KEY: 'a', APOLLO_BASE_URL: 'ftp://x' })).toBe('APOLLO_BASE_URL');
    expect(err({ PROVIDER_TIMEOUT_MS: '0' })).toBe('PROVIDER_TIMEOUT_MS');
    expect(err({ GENERIC_PROVIDERS: '[{"name":"x"}]' })).toBe('GENERIC_PROVIDERS');
    expect(err({ GENERIC_PROVIDERS: '[not json' })).toBe('GENERIC_PROVIDERS');
    expect(err({ GENERIC_PROVIDERS: JSON.stringify([{ ...generic[0], name: 'hunter' }]) })).toBe('GENERIC_PROVIDERS');
  });

  it('reads generic providers from JSON or a file, resolving their secret from the named variable', () => {
    const file = join(dir, 'providers.json');
    writeFileSync(file, JSON.stringify(generic));
    for (const value of [JSON.stringify(generic), file]) {
      const s = loadProviderSettings({ GENERIC_PROVIDERS: value, ACME_KEY: 'k' });
      expect(s.generic).toHaveLength(1);
      expect(s.generic[0]?.secret).toBe('k');
      expect(s.generic[0]?.definition.request.auth?.header).toBe('authorization');
    }
  });
});

describe('createProviderRegistry', () => {
  it('builds the enabled adapters and finds them by name and by want', () => {
    const settings = loadProviderSettings({ HUNTER_API_KEY: 'h', PROSPEO_API_KEY: 'p', CLEARBIT_API_KEY: 'c', GENERIC_PROVIDERS: JSON.stringify(generic), ACME_KEY: 'k' });
    const reg = createProviderRegistry(settings);
    expect(reg.names()).toEqual(['hunter', 'prospeo', 'clearbit', 'acme']);
    expect(reg.get('hunter')?.wants).toEqual(['email', 'email_verification']);
    expect(reg.get('apollo')).toBeUndefined();
    expect(reg.forWant('email').map((p) => p.name)).toEqual(['hunter', 'prospeo', 'acme']);
    expect(reg.forWant('social').map((p) => p.name)).toEqual(['prospeo', 'clearbit']);
    expect(reg.forWant('email_verification').map((p) => p.name)).toEqual(['hunter']);
  });

  it('leaves a generic provider off while its secret is unset', () => {
    const reg = createProviderRegistry(loadProviderSettings({ GENERIC_PROVIDERS: JSON.stringify(generic) }));
    expect(reg.names()).toEqual([]);
  });
});
