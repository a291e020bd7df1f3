// Tokens the CLI and tests mint must be what the API accepts: HS256, tenant_id, exp from the ttl.
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseTtl, signToken } from '../../../src/api/token.js';

const SECRET = 'unit-test-secret-unit-test-secret';

describe('parseTtl', () => {
  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['1h', 3600],
    ['7d', 604800],
    ['15', 15],
    [' 2h ', 7200],
  ])('reads %j as %i seconds', (ttl, seconds) => {
    expect(parseTtl(ttl)).toBe(seconds);
  });

  it.each(['', '0', '0h', '-1h', '1.5h', 'h', '1w', 'soon', '1 hour'])('refuses %j', (ttl) => {
    expect(() => parseTtl(ttl)).toThrow(/ttl/);
  });
});

describe('signToken', () => {
  it('signs HS256 with tenant_id, roles, sub and an exp ttl seconds ahead', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await signToken(SECRET, { tenantId: 'b7c1f0e4-3a5b-4c8e-9f1a-2d3e4f5a6b7c', roles: ['admin'], sub: 'me', ttl: '10m' });
    expect(decodeProtectedHeader(token).alg).toBe('HS256');
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ tenant_id: 'b7c1f0e4-3a5b-4c8e-9f1a-2d3e4f5a6b7c', roles: ['admin'], sub: 'me' });
    expect(payload.exp).toBeGreaterThanOrEqual(before + 600);
    expect(payload.exp).toBeLessThanOrEqual(before + 601);
  });

  it('sets issuer and audience when given', async () => {
    const token = await signToken(SECRET, { tenantId: 'b7c1f0e4-3a5b-4c8e-9f1a-2d3e4f5a6b7c', issuer: 'iss', audience: 'aud' });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET), { issuer: 'iss', audience: 'aud' });
    expect(payload.roles).toEqual([]);
  });
});
