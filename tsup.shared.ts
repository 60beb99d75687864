import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { defineConfig, type Options } from 'tsup'

/** What a package builds: its public entries (`exports` subpaths) and, optionally, executables. */
export interface PackageBuild {
  /** Output name → source file, one per `exports` subpath, e.g. `{ index: 'src/index.ts', vitest: 'src/vitest.ts' }`. */
  entries: Record<string, string>
  /** Output name → source file of a `bin` (ESM only, no declarations), e.g. `{ 'bin/coresdk': 'src/bin/coresdk.ts' }`. */
  bins?: Record<string, string>
}

/**
 * The one build of every published package: ESM (`<name>.js`, `<name>.d.ts`) plus, for each entry, a CommonJS
 * face (`<name>.cjs`, `<name>.d.cts`).
 *
 * The CommonJS file is not a second copy of the code: it hands over the ESM build through Node's `require(esm)`
 * (Node 20.19 and later, the packages' engines), so `require()` and `import` share one module instance, and
 * `instanceof CoreSDKError` or one client passed across packages hold in a mixed CommonJS/ESM app. This needs no
 * top-level `await` in published code. The `.d.cts` declarations come from tsup's own CommonJS declaration build,
 * so that TypeScript's `node16` resolution (which refuses a CommonJS file importing an ES module) accepts them.
 */
export function packageBuild({ entries, bins = {} }: PackageBuild): Options {
  return defineConfig({
    entry: { ...entries, ...bins },
    format: ['esm', 'cjs'],
    dts: { entry: entries },
    clean: true,
    sourcemap: true,
    target: 'es2022',
    async onSuccess() {
      const dist = 'dist'
      // tsup's CommonJS bundles are replaced: only the hand-over files below are shipped.
      for (const file of await readdir(dist, { recursive: true })) {
        if (file.endsWith('.cjs') || file.endsWith('.cjs.map')) await rm(join(dist, file))
      }
      for (const name of Object.keys(entries)) {
        const base = name.split('/').pop()
        await writeFile(join(dist, `${name}.cjs`), `'use strict'\nmodule.exports = require('./${base}.js')\n`)
      }
    },
  }) as Options
}
