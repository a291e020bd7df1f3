// Tests: unit (pure code) and integration (real PostgreSQL and Redis, a database and key prefix per file).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Component tests (.test.tsx) pick their DOM per file (`// @vitest-environment happy-dom`).
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
