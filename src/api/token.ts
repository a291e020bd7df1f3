// Signs API tokens (HS256) with the configured secret.
import { SignJWT } from 'jose';

export interface TokenClaims {
  tenantId: string;
  sub?: string;
  roles?: string[];
  /** lifetime, e.g. "1h", "30m", "7d", "90s" */
  ttl?: string;
  issuer?: string;
  audience?: string;
}

/** Parses a lifetime like 90s, 30m, 1h, 7d into seconds; throws on anything else. */
export function parseTtl(ttl: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(ttl.trim());
  if (!m) throw new Error(`invalid ttl "${ttl}": use a number with s, m, h or d (e.g. 1h)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(m[1]) * unit;
  if (seconds <= 0) throw new Error('ttl must be positive');
  return seconds;
}

/** Returns a signed JWT carrying tenant_id, sub, roles and exp. */
export async function signToken(secret: string, claims: TokenClaims): Promise<string> {
  const jwt = new SignJWT({ tenant_id: claims.tenantId, roles: claims.roles ?? [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub ?? 'enrichd-cli')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + parseTtl(claims.ttl ?? '1h'));
  if (claims.issuer) jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
