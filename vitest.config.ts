import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import swc from 'unplugin-swc'
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'

/**
 * The one Vitest configuration of the workspace: one project per package, app and check that has a `test` script.
 *
 * Run from a package's directory (its `pnpm test`, or `vitest run test/x.test.ts` there), Vitest finds this file
 * upward and runs that package's project only, reporting to the package's own `.vitest-result.json` (which `.ci/run`
 * sums up). Run from the root, it runs every project (`--project @coresdk/express` picks one).
 */
const root = fileURLToPath(new URL('.', import.meta.url))

/** What a project sets beyond the shared settings below, by package name. */
const differences: Record<string, Pick<TestProjectInlineConfiguration, 'plugins' | 'test'>> = {
  // SWC emits decorator metadata, which esbuild does not; Nest's dependency injection needs it.
  '@coresdk/nestjs': { plugins: [swc.vite({ module: { type: 'es6' } })] },
  '@coresdk/example-nestjs': { plugins: [swc.vite({ module: { type: 'es6' } })] },
  // The integration tests start real sidecar and CLI processes (a TypeScript loader each): allow them the time.
  '@coresdk/sidecar': { test: { testTimeout: 60_000 } },
  '@coresdk/packaging-check': {
    test: {
      // Packs every package and installs the tarballs into fresh projects, once for every test file.
      globalSetup: ['test/setup.ts'],
      // Each file starts servers and compilers: one file and one compiler at a time, so that this check takes about
      // one core and leaves the other to the packages' tests turbo runs beside it (some of them timing-sensitive).
      fileParallelism: false,
      maxConcurrency: 1,
      testTimeout: 180_000,
    },
  },
}

const projects: TestProjectInlineConfiguration[] = []
for (const group of ['packages', 'apps', 'checks']) {
  for (const dir of readdirSync(join(root, group))) {
    const manifest = join(root, group, dir, 'package.json')
    if (!existsSync(manifest)) continue
    const { name, scripts } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      name: string
      scripts?: Record<string, string>
    }
    if (!scripts?.test) continue
    const difference = differences[name] ?? {}
    projects.push({
      extends: true,
      root: join(root, group, dir),
      plugins: difference.plugins,
      test: { name, ...difference.test },
    })
  }
}

const cwd = process.cwd()
const own = projects.find((project) => cwd === project.root || cwd.startsWith(`${project.root}${sep}`))

export default defineConfig({
  // Workspace packages resolve to their TypeScript source.
  resolve: { conditions: ['@coresdk/source', 'module', 'node', 'import', 'default'] },
  // Vitest hands the SSR conditions to Node as --conditions: 'import' there would make require() load ESM builds.
  ssr: { resolve: { conditions: ['@coresdk/source', 'module', 'node', 'development|production'] } },
  test: {
    projects: own ? [own] : projects,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: join(own?.root ?? root, '.vitest-result.json') }]],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
