// Where tests find PostgreSQL and Redis (overridable with TEST_PG_URL / TEST_REDIS_URL).
export const PG_BASE = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ADMIN_URL = `${PG_BASE}/postgres`;
export const TEST_APP_ROLE = 'enrichd_app';
export const TEST_JWT_SECRET = 'test-secret-test-secret-0123456789';

/** The URL of a named database on the test server. */
export function databaseUrlFor(name: string): string {
  return `${PG_BASE}/${name}`;
}
