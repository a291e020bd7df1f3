// The enabled providers, built from settings: a built-in adapter is on when its key is set.
import { createApolloProvider } from './adapters/apollo.js';
import { createClearbitProvider } from './adapters/clearbit.js';
import { createGenericHttpProvider } from './adapters/generic-http.js';
import { createHunterProvider } from './adapters/hunter.js';
import { createPdlProvider } from './adapters/pdl.js';
import { createProspeoProvider } from './adapters/prospeo.js';
import type { BuiltInProvider, ProviderSettings } from './config.js';
import type { AdapterOptions, LookupWant, Provider } from './provider.js';

export interface ProviderRegistry {
  /** the enabled provider of this name */
  get(name: string): Provider | undefined;
  /** names of the enabled providers, built-in first */
  names(): string[];
  /** the enabled providers that can answer this want */
  forWant(want: LookupWant): Provider[];
}

const FACTORIES: Record<BuiltInProvider, (o: AdapterOptions) => Provider> = {
  hunter: (o) => createHunterProvider(o),
  apollo: (o) => createApolloProvider(o),
  pdl: (o) => createPdlProvider(o),
  prospeo: (o) => createProspeoProvider(o),
  clearbit: (o) => createClearbitProvider(o),
};

/** Builds the registry of enabled providers. */
export function createProviderRegistry(settings: ProviderSettings): ProviderRegistry {
  const providers = new Map<string, Provider>();
  for (const [name, s] of Object.entries(settings.builtIn) as [BuiltInProvider, NonNullable<ProviderSettings['builtIn'][BuiltInProvider]>][]) {
    providers.set(name, FACTORIES[name]({ apiKey: s.apiKey, baseUrl: s.baseUrl, timeoutMs: settings.timeoutMs }));
  }
  for (const g of settings.generic) {
    // Like a built-in one, a provider that authenticates is on only when its secret is set.
    if (g.definition.request.auth && g.secret === undefined) continue;
    providers.set(g.definition.name, createGenericHttpProvider(g.definition, g.secret, settings.timeoutMs));
  }
  return {
    get: (name) => providers.get(name),
    names: () => [...providers.keys()],
    forWant: (want) => [...providers.values()].filter((p) => p.wants.includes(want)),
  };
}
