// Bearer JWT auth: HS256 only, tenant from the tenant_id claim; creates the tenant on first sight.
import { errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { AppError } from '../errors.js';

export interface AuthContext {
  tenantId: string;
  sub: string | null;
  roles: string[];
}

const claimsSchema = z.object({
  tenant_id: z.guid(),
  sub: z.string().optional(),
  exp: z.number(),
  roles: z.array(z.string()).optional(),
});

const CACHE_MAX = 10_000;
const CACHE_TTL_MS = 60_000;

/** Verifies bearer tokens; verified tokens are remembered briefly so the hot path skips the HMAC. */
export class Authenticator {
  private readonly key: Uint8Array;
  private readonly cache = new Map<string, { auth: AuthContext; until: number }>();
  private readonly knownTenants = new Set<string>();

  constructor(
    private readonly jwt: Config['jwt'] & { secret: string },
    private readonly pool: Pool,
  ) {
    this.key = new TextEncoder().encode(jwt.secret);
  }

  /** Returns the caller's tenant and roles, or throws a 401 AppError. */
  async authenticate(header: string | undefined): Promise<AuthContext> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    if (!token) throw new AppError('unauthorized', 'A bearer token is required.');
    const now = Date.now();
    const cached = this.cache.get(token);
    if (cached && cached.until > now) return cached.auth;
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: this.jwt.issuer,
        audience: this.jwt.audience,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      const expired = err instanceof joseErrors.JWTExpired;
      throw new AppError('unauthorized', expired ? 'The token has expired.' : 'The token is invalid.');
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new AppError('unauthorized', 'The token must carry a UUID tenant_id and an exp claim.');
    const auth: AuthContext = { tenantId: claims.data.tenant_id.toLowerCase(), sub: claims.data.sub ?? null, roles: claims.data.roles ?? [] };
    await this.ensureTenant(auth.tenantId);
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(token, { auth, until: Math.min(now + CACHE_TTL_MS, claims.data.exp * 1000) });
    return auth;
  }

  private async ensureTenant(tenantId: string): Promise<void> {
    if (this.knownTenants.has(tenantId)) return;
    await this.pool.query('INSERT INTO tenants (id) VALUES ($1::uuid) ON CONFLICT (id) DO NOTHING', [tenantId]);
    if (this.knownTenants.size >= CACHE_MAX) this.knownTenants.clear();
    this.knownTenants.add(tenantId);
  }
}

/** Throws 403 unless the caller has the admin role. */
export function requireAdmin(auth: AuthContext): void {
  if (!auth.roles.includes('admin')) throw new AppError('forbidden', 'This call needs the admin role.');
}
