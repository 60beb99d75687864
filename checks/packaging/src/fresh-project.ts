import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type RunResult, run } from './run.ts'
import { TYPESCRIPTS } from './type-check.ts'
import { type PublicPackage, root, workspaceRange } from './workspace.ts'

/** The two module formats of a Node project: `"type": "commonjs"` and `"type": "module"`. */
export type ModuleFormat = 'cjs' | 'esm'

/** Third-party packages each fresh project installs besides ours: the adapters' peers, types, and tsx to run TypeScript. */
export const THIRD_PARTY = [
  '@hono/node-server',
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@types/express',
  '@types/node',
  '@types/pg',
  'express',
  'fastify',
  'hono',
  'ioredis',
  'pg',
  'reflect-metadata',
  'rxjs',
  'tsx',
] as const

/**
 * The environment npm runs in: the caller's, without the `npm_*` variables a parent package manager sets for its
 * scripts (they would configure this npm as if it were part of the workspace).
 */
export function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_')))
}

/** Packs every package with pnpm, as it publishes them (workspace ranges resolved, `publishConfig` applied). */
export async function packAll(
  packages: readonly PublicPackage[],
  destination: string,
): Promise<Map<string, string>> {
  await mkdir(destination, { recursive: true })
  const tarballs = new Map<string, string>()
  for (const pkg of packages) {
    const result = await run('pnpm', ['pack', '--json', '--pack-destination', destination], {
      cwd: join(root, pkg.dir),
    })
    if (result.code !== 0) throw new Error(`pnpm pack ${pkg.name} failed:\n${result.stderr}${result.stdout}`)
    tarballs.set(pkg.name, JSON.parse(result.stdout).filename)
  }
  return tarballs
}

/** A project created outside the workspace, with every tarball installed by npm. */
export interface FreshProject {
  format: ModuleFormat
  dir: string
  install: RunResult
}

/**
 * Creates a project of `format` in `dir` that depends on every tarball, {@link THIRD_PARTY} and both TypeScripts, and
 * installs it.
 */
export async function createProject(
  dir: string,
  format: ModuleFormat,
  tarballs: ReadonlyMap<string, string>,
): Promise<FreshProject> {
  await mkdir(dir, { recursive: true })
  const dependencies: Record<string, string> = {}
  for (const [name, file] of tarballs) dependencies[name] = `file:${file}`
  for (const name of THIRD_PARTY) dependencies[name] = workspaceRange(name)
  for (const { alias, spec } of Object.values(TYPESCRIPTS)) dependencies[alias] = spec
  const manifest = {
    name: `fresh-${format}`,
    version: '1.0.0',
    private: true,
    type: format === 'esm' ? 'module' : 'commonjs',
    dependencies,
  }
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  const install = await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', '--no-update-notifier'],
    { cwd: dir, env: npmEnv(), timeout: 300_000 },
  )
  return { format, dir, install }
}
