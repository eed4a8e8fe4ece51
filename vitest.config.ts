import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Workspace packages that publish a build (packages/sdk) export their TypeScript sources under the
  // `atrium-source` condition, so tests import the sources with no build. Vite's default server conditions follow.
  ssr: { resolve: { conditions: ['atrium-source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['apps/*/test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Each test file gets its own database cloned from a migrated template, so files run in parallel safely.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
