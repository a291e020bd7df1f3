// The demo tenant that `enrichd start` signs in, and the lines it prints.
import { randomBytes } from 'node:crypto';
import { signToken } from '../api/token.js';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';

export const DEMO_TENANT_ID = '0000de00-0000-4000-8000-000000000001';

/** A fresh secret for a run that has no JWT_SECRET. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Creates the demo tenant and returns the banner with its admin token, a sign-in link and a curl line. */
export async function demoBanner(config: Config & { jwt: { secret: string } }, pool: Pool, baseUrl: string, generatedSecret: boolean): Promise<string> {
  await pool.query('INSERT INTO tenants (id) VALUES ($1::uuid) ON CONFLICT (id) DO NOTHING', [DEMO_TENANT_ID]);
  const token = await signToken(config.jwt.secret, {
    tenantId: DEMO_TENANT_ID,
    sub: 'demo-admin',
    roles: ['admin'],
    ttl: '24h',
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  });
  const lines = [
    '',
    'enrichd is running',
    `  API:          ${baseUrl}  (OpenAPI: ${baseUrl}/openapi.json, docs: ${baseUrl}/docs)`,
    `  demo tenant:  ${DEMO_TENANT_ID}`,
    `  admin token:  ${token}`,
    `                (valid 24 h; ${generatedSecret ? 'signed with a JWT_SECRET generated for this run: set JWT_SECRET to keep tokens across restarts' : 'signed with JWT_SECRET'})`,
  ];
  if (generatedSecret) lines.push(`  JWT_SECRET:   ${config.jwt.secret}`);
  lines.push(
    `  sign in:      ${baseUrl}/#token=${token}`,
    '  submit a job:',
    `    curl -s -X POST ${baseUrl}/v1/enrichment/jobs -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' -d '{"type":"test_job","payload":{"sleepMs":500}}'`,
    '',
  );
  return lines.join('\n');
}
