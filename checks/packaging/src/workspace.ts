import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root directory. */
export const root = fileURLToPath(new URL('../../../', import.meta.url))

/** A package the repository publishes, as its manifest describes it. */
export interface PublicPackage {
  name: string
  version: string
  /** Its directory, relative to the root (`packages/core`). */
  dir: string
  /** The import specifiers of its entries: `@coresdk/testing`, `@coresdk/testing/vitest`. */
  entries: string[]
  manifest: Record<string, unknown> & { exports: Record<string, unknown> }
}

/** Every package under packages/ that is not private, by name. */
export function publicPackages(): PublicPackage[] {
  const found: PublicPackage[] = []
  for (const name of readdirSync(join(root, 'packages')).sort()) {
    const dir = `packages/${name}`
    const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'))
    if (manifest.private) continue
    const entries = Object.keys(manifest.exports)
      .filter((subpath) => subpath !== './package.json')
      .map((subpath) => (subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`))
    found.push({ name: manifest.name, version: manifest.version, dir, entries, manifest })
  }
  return found
}

/** The version range the workspace itself uses for a third-party package (the first manifest naming it). */
export function workspaceRange(dependency: string): string {
  const manifests = [
    'package.json',
    ...['packages', 'apps'].flatMap((group) =>
      readdirSync(join(root, group)).map((name) => `${group}/${name}/package.json`),
    ),
  ]
  for (const file of manifests) {
    let manifest: Record<string, Record<string, string> | undefined>
    try {
      manifest = JSON.parse(readFileSync(join(root, file), 'utf8'))
    } catch {
      continue
    }
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
      const range = manifest[field]?.[dependency]
      if (range && !range.startsWith('workspace:')) return range
    }
  }
  throw new Error(`no workspace manifest depends on ${dependency}`)
}
