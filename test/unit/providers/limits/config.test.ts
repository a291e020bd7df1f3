// Provider rate limits from the environment: defaults, per-provider overrides, scope, validation.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/config.js';
import { limiterOptions, limitsFrom, loadRateLimitSettings } from '../../../../src/providers/limits/config.js';
import { throttleScope } from '../../../../src/providers/limits/windows.js';

const variableOf = (env: Record<string, string>): string | null => {
  try {
    loadRateLimitSettings(env);
  } catch (e) {
    return e instanceof ConfigError ? e.variable : 'other';
  }
  return null;
};

describe('loadRateLimitSettings', () => {
  it('defaults to 10 per second, 100 per minute, 1000 per hour for every provider, shared by its endpoints', () => {
    const limits = limitsFrom(loadRateLimitSettings({}));
    expect(limits('hunter', 'email-finder')).toEqual({ provider: { second: 10, minute: 100, hour: 1000 }, endpoint: {} });
    expect(limits('some_generic', 'default')).toEqual({ provider: { second: 10, minute: 100, hour: 1000 }, endpoint: {} });
    expect(loadRateLimitSettings({}).circuitOpenMs).toBe(3_600_000);
    expect(loadRateLimitSettings({}).marginMs).toBe(50);
  });

  it('hands createRateLimiter its limits, margin and circuit default', () => {
    const o = limiterOptions(loadRateLimitSettings({ RATE_LIMIT_MARGIN_MS: '0', PROVIDER_CIRCUIT_OPEN_MS: '60000', PDL_RATE_LIMIT_PER_MINUTE: '1000' }));
    expect(o.marginMs).toBe(0);
    expect(o.circuitOpenMs).toBe(60_000);
    expect(o.limits('pdl', 'person/enrich').provider.minute).toBe(1000);
  });

  it('takes RATE_LIMIT_* as the defaults and <PROVIDER>_RATE_LIMIT_* per provider, falling back window by window', () => {
    const limits = limitsFrom(
      loadRateLimitSettings({ RATE_LIMIT_PER_SECOND: '5', RATE_LIMIT_PER_MINUTE: ' 50 ', RATE_LIMIT_PER_HOUR: '', HUNTER_RATE_LIMIT_PER_SECOND: '15', HUNTER_RATE_LIMIT_PER_MINUTE: '500', ACME_CO_RATE_LIMIT_PER_HOUR: '7' }),
    );
    expect(limits('hunter', 'email-finder').provider).toEqual({ second: 15, minute: 500, hour: 1000 });
    expect(limits('apollo', 'people/match').provider).toEqual({ second: 5, minute: 50, hour: 1000 });
    expect(limits('acme_co', 'default').provider).toEqual({ second: 5, minute: 50, hour: 7 });
  });

  it('gives each endpoint its own budget when <PROVIDER>_RATE_LIMIT_SCOPE is endpoint', () => {
    const limits = limitsFrom(loadRateLimitSettings({ APOLLO_RATE_LIMIT_SCOPE: 'Endpoint', APOLLO_RATE_LIMIT_PER_MINUTE: '1000', PDL_RATE_LIMIT_SCOPE: 'provider' }));
    expect(limits('apollo', 'people/match')).toEqual({ provider: {}, endpoint: { second: 10, minute: 1000, hour: 1000 } });
    expect(throttleScope(limits('apollo', 'people/match'))).toBe('endpoint');
    expect(throttleScope(limits('pdl', 'person/enrich'))).toBe('provider');
  });

  it('stops at a value that is not a positive integer, naming the variable', () => {
    expect(variableOf({ RATE_LIMIT_PER_SECOND: '0' })).toBe('RATE_LIMIT_PER_SECOND');
    expect(variableOf({ RATE_LIMIT_PER_MINUTE: '-3' })).toBe('RATE_LIMIT_PER_MINUTE');
    expect(variableOf({ RATE_LIMIT_PER_HOUR: '1.5' })).toBe('RATE_LIMIT_PER_HOUR');
    expect(variableOf({ HUNTER_RATE_LIMIT_PER_SECOND: 'ten' })).toBe('HUNTER_RATE_LIMIT_PER_SECOND');
    expect(variableOf({ PDL_RATE_LIMIT_PER_HOUR: '1e3' })).toBe('PDL_RATE_LIMIT_PER_HOUR');
    expect(variableOf({ APOLLO_RATE_LIMIT_SCOPE: 'team' })).toBe('APOLLO_RATE_LIMIT_SCOPE');
    expect(variableOf({ PROVIDER_CIRCUIT_OPEN_MS: '0' })).toBe('PROVIDER_CIRCUIT_OPEN_MS');
    expect(variableOf({ RATE_LIMIT_MARGIN_MS: '1001' })).toBe('RATE_LIMIT_MARGIN_MS');
    expect(variableOf({ RATE_LIMIT_MARGIN_MS: '-1' })).toBe('RATE_LIMIT_MARGIN_MS');
    expect(variableOf({ HUNTER_RATE_LIMIT_PER_SECOND: '' })).toBeNull();
    expect(() => loadRateLimitSettings({ RATE_LIMIT_PER_SECOND: 'x' })).toThrow(/RATE_LIMIT_PER_SECOND must be a positive integer/);
  });
});
