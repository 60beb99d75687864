import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ModuleFormat } from './fresh-project.ts'
import { workspaceRange } from './workspace.ts'

/**
 * The TypeScript versions a project is checked with, as npm package specs: the workspace's 5.9, and TypeScript 7
 * (the native compiler, published as `typescript` 7.x), installed side by side under the alias `typescript7`.
 */
export const TYPESCRIPTS = {
  '5.9': { alias: 'typescript', spec: workspaceRange('typescript'), flags: [] },
  // One thread, as 5.9 uses: the check runs beside other packages' tests, some of them timing-sensitive.
  '7': { alias: 'typescript7', spec: 'npm:typescript@~7.0.2', flags: ['--singleThreaded'] },
} as const
export type TypeScriptVersion = keyof typeof TYPESCRIPTS
/** The versions in order (an object lists an integer-like key such as `'7'` first). */
export const TYPESCRIPT_VERSIONS: TypeScriptVersion[] = ['5.9', '7']

/** The `tsc` of a TypeScript version installed in a project. */
export function tscOf(projectDir: string, version: TypeScriptVersion): string {
  return join(projectDir, 'node_modules', TYPESCRIPTS[version].alias, 'bin', 'tsc')
}

/** The exact version of it installed in a project, e.g. `5.9.3`. */
export function typescriptVersion(projectDir: string, version: TypeScriptVersion): string {
  const manifest = join(projectDir, 'node_modules', TYPESCRIPTS[version].alias, 'package.json')
  return JSON.parse(readFileSync(manifest, 'utf8')).version
}

export const RESOLUTIONS = ['node16', 'nodenext', 'bundler'] as const
export type Resolution = (typeof RESOLUTIONS)[number]

/**
 * The `module` that goes with each resolution. `node16` resolution is paired with `module: node20`, TypeScript's
 * model of Node 20.19 and later (the packages' engines), where `require()` loads ES modules; `module: node16`
 * models a Node that cannot, and refuses any ES-only dependency in CommonJS (NestJS 12, jose and openid-client are
 * ES-only). `bundler` goes with `esnext` in an ES module project and with `preserve` in a CommonJS one.
 */
export function moduleFor(resolution: Resolution, format: ModuleFormat): string {
  if (resolution === 'node16') return 'node20'
  if (resolution === 'nodenext') return 'nodenext'
  return format === 'esm' ? 'esnext' : 'preserve'
}

function alias(entry: string): string {
  return entry.replace(/^@coresdk\//, '').replace(/[^a-z0-9]+/gi, '_')
}

/**
 * Writes the files a project is type-checked with: `types.ts` (the fixture, and a namespace import of every entry so
 * that none is missed), in CommonJS `require.ts` (a `require` import of each entry, the other way CommonJS code
 * imports), and one `tsconfig.<resolution>.json` per resolution.
 *
 * `require.ts` is left out under `bundler`: with `module: preserve`, TypeScript resolves an `import` through the
 * packages' `import` condition and an `import … = require()` through `require`, and a program holding both loads the
 * ESM and the CommonJS declarations of one package side by side (two `Session` classes augmenting one
 * `Express.Request`). A project importing one way only, as projects do, never sees both.
 */
export function writeTypeCheck(projectDir: string, format: ModuleFormat, entries: readonly string[]): void {
  const fixture = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'types.ts'), 'utf8')
  const every = entries.map((entry) => `import * as all_${alias(entry)} from '${entry}'`)
  const all = entries.map((entry) => `all_${alias(entry)}`)
  writeFileSync(
    join(projectDir, 'types.ts'),
    `${fixture}\n${every.join('\n')}\nexport const entries = [${all.join(', ')}]\n`,
  )
  if (format === 'cjs') {
    const required = entries.map((entry) => `import req_${alias(entry)} = require('${entry}')`)
    const names = entries.map((entry) => `req_${alias(entry)}`)
    writeFileSync(
      join(projectDir, 'require.ts'),
      `${required.join('\n')}\nexport const entries = [${names.join(', ')}]\n`,
    )
  }
  for (const resolution of RESOLUTIONS) {
    const config = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: moduleFor(resolution, format),
        moduleResolution: resolution,
        target: 'es2022',
        lib: ['es2023'],
        types: ['node'],
        // The packages' own declarations are checked too, as a user with this setting would see them.
        skipLibCheck: false,
      },
      files: format === 'cjs' && resolution !== 'bundler' ? ['types.ts', 'require.ts'] : ['types.ts'],
    }
    writeFileSync(join(projectDir, `tsconfig.${resolution}.json`), `${JSON.stringify(config, null, 2)}\n`)
  }
}
