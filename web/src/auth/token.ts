// The API token of this tab: taken from a `#token=` sign-in link or pasted, kept in
// sessionStorage (gone when the tab closes), never put in a URL that reaches the server.

export const TOKEN_KEY = 'enrichd.token';

/** What a `#token=...` fragment carries: the token, and the fragment to leave in its place. */
export interface FragmentToken {
  token: string | null;
  /** the fragment without the token ('' when nothing else was in it) */
  rest: string;
}

/** Splits a `#token=<jwt>[&...]` fragment; any other fragment is returned unchanged as rest. */
export function parseTokenFragment(hash: string): FragmentToken {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!body.startsWith('token=') && !body.includes('&token=')) return { token: null, rest: hash };
  const params = new URLSearchParams(body);
  const token = params.get('token');
  params.delete('token');
  const others = params.toString();
  return { token: token && token.trim() !== '' ? token.trim() : null, rest: others === '' ? '' : `#${others}` };
}

/** Whether a string has the shape of a compact JWS (three base64url parts). */
export function looksLikeJwt(s: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(s.trim());
}

/** The claims the dashboard shows (tenant, subject, expiry); null when the token cannot be read. */
export function readClaims(token: string): { tenantId: string | null; sub: string | null; exp: number | null } | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const claims = JSON.parse(json) as { tenant_id?: unknown; sub?: unknown; exp?: unknown };
    return {
      tenantId: typeof claims.tenant_id === 'string' ? claims.tenant_id : null,
      sub: typeof claims.sub === 'string' ? claims.sub : null,
      exp: typeof claims.exp === 'number' ? claims.exp : null,
    };
  } catch {
    return null;
  }
}

interface TokenPlace {
  location: Pick<Location, 'hash' | 'pathname' | 'search'>;
  history: Pick<History, 'replaceState' | 'state'>;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
}

/**
 * Takes a token from the address bar's fragment into the tab's storage and removes it from
 * the address bar (and from this history entry) at once; returns the token the tab holds.
 */
export function consumeFragmentToken(place: TokenPlace): string | null {
  const { token, rest } = parseTokenFragment(place.location.hash);
  if (token !== null) {
    place.storage.setItem(TOKEN_KEY, token);
    place.history.replaceState(place.history.state, '', `${place.location.pathname}${place.location.search}${rest}`);
  } else if (rest !== place.location.hash) {
    // `#token=` with nothing in it: still not left in the address bar.
    place.history.replaceState(place.history.state, '', `${place.location.pathname}${place.location.search}${rest}`);
  }
  return place.storage.getItem(TOKEN_KEY);
}

/** Keeps a pasted token for the tab. */
export function saveToken(storage: Pick<Storage, 'setItem'>, token: string): void {
  storage.setItem(TOKEN_KEY, token.trim());
}

/** Forgets the tab's token (sign-out, or a 401). */
export function clearToken(storage: Pick<Storage, 'removeItem'>): void {
  storage.removeItem(TOKEN_KEY);
}
