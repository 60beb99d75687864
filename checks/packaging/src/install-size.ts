import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface LockEntry {
  version?: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

/** What installing one package brings into a project, peers aside (a project has its framework already). */
export interface InstallFootprint {
  name: string
  /** The package's own files, in bytes. */
  ownBytes: number
  /** Every package it pulls in, directly or not (`name@version`), its peers and theirs excluded. */
  dependencies: string[]
  /** The package and all of its dependencies, in bytes. */
  totalBytes: number
  /** Its peer dependencies, by name. */
  peers: string[]
}

function parentOf(location: string): string {
  const index = location.lastIndexOf('/node_modules/')
  return index < 0 ? '' : location.slice(0, index)
}

/** The bytes of a package's own files: its directory, without the packages nested in its node_modules. */
function bytesOf(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') total += bytesOf(path)
    } else {
      total += lstatSync(path).size
    }
  }
  return total
}

/** The footprint of `name` in an npm project, from its package-lock.json and the files on disk. */
export function installFootprint(projectDir: string, name: string): InstallFootprint {
  const lock: Record<string, LockEntry> = JSON.parse(
    readFileSync(join(projectDir, 'package-lock.json'), 'utf8'),
  ).packages
  // Node's lookup: the nearest node_modules/<dep> from the dependent's location up to the project root.
  const resolve = (from: string, dependency: string): string | undefined => {
    for (let base = from; ; base = parentOf(base)) {
      const location = base ? `${base}/node_modules/${dependency}` : `node_modules/${dependency}`
      if (lock[location]) return location
      if (!base) return undefined
    }
  }
  const start = `node_modules/${name}`
  const seen = new Set<string>([start])
  const queue = [start]
  while (queue.length > 0) {
    const location = queue.shift()!
    const entry = lock[location]!
    for (const dependency of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const found = resolve(location, dependency)
      if (found && !seen.has(found)) {
        seen.add(found)
        queue.push(found)
      }
    }
  }
  const dependencies = [...seen]
    .filter((location) => location !== start)
    .map(
      (location) =>
        `${location.slice(location.lastIndexOf('node_modules/') + 13)}@${lock[location]!.version}`,
    )
    .sort()
  const ownBytes = bytesOf(join(projectDir, start))
  let totalBytes = 0
  for (const location of seen) totalBytes += bytesOf(join(projectDir, location))
  return {
    name,
    ownBytes,
    dependencies,
    totalBytes,
    peers: Object.keys(lock[start]?.peerDependencies ?? {}).sort(),
  }
}

/** `1234567` → `1.2 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`
  return `${(bytes / 1_000_000).toFixed(1)} MB`
}
