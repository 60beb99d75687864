import { defineConfig } from 'vitest/config'

/** Shared Vitest settings: resolve workspace packages to their TypeScript source, report to a JSON file for `.ci/run`. */
export const sharedConfig = defineConfig({
  resolve: { conditions: ['@coresdk/source', 'module', 'node', 'import', 'default'] },
  // Vitest hands the SSR conditions to Node as --conditions: 'import' there would make require() load ESM builds.
  ssr: { resolve: { conditions: ['@coresdk/source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest-result.json' }]],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
