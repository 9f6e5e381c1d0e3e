import { defineConfig } from 'vitest/config';

// Unit and integration tests run in parallel; e2e tests share one Docker engine and
// the legion_internal network, so they run one file at a time. Each e2e project's
// containers and volumes carry its own project id; global-setup.ts checks that a
// pre-existing legacy volume (a user's) survives the whole suite.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
