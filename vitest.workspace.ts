import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'

/**
 * The one list of test projects (docs/architecture.md#tests). Vitest 4 ignores a file with this name unless it is
 * passed with --config, which `npm test` does.
 */

// Workspace packages resolve to their TypeScript sources, as under `npm start`.
const conditions = ['cuekit-source']
const resolve = { conditions }
const ssr = { resolve: { conditions, externalConditions: conditions } }

function project(test: NonNullable<TestProjectInlineConfiguration['test']>): TestProjectInlineConfiguration {
  return { resolve, ssr, test: { testTimeout: 30_000, hookTimeout: 60_000, ...test } }
}

const engineTests = ['packages/engine/test/**/*.test.ts']

export default defineConfig({
  resolve,
  ssr,
  test: {
    projects: [
      project({ name: 'protocol', include: ['packages/protocol/test/**/*.test.ts'] }),
      project({ name: 'structure', include: ['scripts/test/**/*.test.ts'] }),
      project({
        name: 'engine:redis',
        include: engineTests,
        env: { CUEKIT_TEST_BACKEND: 'redis' },
        globalSetup: ['scripts/lib/vitest-redis-setup.ts'],
      }),
      project({ name: 'engine:memory', include: engineTests, env: { CUEKIT_TEST_BACKEND: 'memory' } }),
      project({
        name: 'engine:cluster',
        include: engineTests,
        env: { CUEKIT_TEST_BACKEND: 'cluster' },
        globalSetup: ['scripts/lib/vitest-cluster-setup.ts'],
      }),
      project({
        name: 'server',
        include: ['apps/server/test/**/*.test.ts'],
        globalSetup: ['scripts/lib/vitest-redis-setup.ts'],
      }),
      project({
        name: 'sdk',
        include: ['packages/sdk/test/**/*.test.ts'],
        globalSetup: ['scripts/lib/vitest-redis-setup.ts'],
      }),
      project({ name: 'dashboard', include: ['apps/dashboard/test/unit/**/*.test.ts'] }),
      project({
        name: 'e2e',
        include: ['apps/dashboard/test/e2e/**/*.test.ts'],
        globalSetup: ['scripts/lib/vitest-redis-setup.ts'],
      }),
    ],
  },
})
