import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { createProject, type ModuleFormat, packAll } from '../src/fresh-project.ts'
import { publicPackages } from '../src/workspace.ts'

/** What the setup made for the tests: the tarballs and two fresh projects outside the workspace. */
export interface PackagingContext {
  dir: string
  /** Package name → tarball path. */
  tarballs: Record<string, string>
  projects: Record<ModuleFormat, { dir: string; installed: boolean; output: string; seconds: number }>
  packSeconds: number
}

declare module 'vitest' {
  export interface ProvidedContext {
    packaging: PackagingContext
  }
}

/**
 * Packs every public package (its build comes first: turbo runs `^build` before this package's tests) and installs
 * all the tarballs with npm into one CommonJS and one ESM project under the OS's temporary directory, once for
 * all the tests. An install failure is reported by the tests that need the project, not here.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'coresdk-packaging-'))
  const packStart = performance.now()
  const tarballs = await packAll(publicPackages(), join(dir, 'packs'))
  const packSeconds = (performance.now() - packStart) / 1000
  const formats: ModuleFormat[] = ['cjs', 'esm']
  // One after the other, like everything in this check, so that it takes about one core.
  const installed = []
  for (const format of formats) installed.push(await createProject(join(dir, format), format, tarballs))
  const projects = Object.fromEntries(
    installed.map((p) => [
      p.format,
      {
        dir: p.dir,
        installed: p.install.code === 0,
        output: `${p.install.stdout}${p.install.stderr}`,
        seconds: p.install.elapsed / 1000,
      },
    ]),
  ) as PackagingContext['projects']
  project.provide('packaging', { dir, tarballs: Object.fromEntries(tarballs), projects, packSeconds })
  return async () => {
    await rm(dir, { recursive: true, force: true })
  }
}
