import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { run } from '../src/run.ts'
import { publicPackages, root } from '../src/workspace.ts'

const { dir, tarballs } = inject('packaging')
const REPOSITORY = 'https://github.com/coresdk/coresdk-node'
const bin = (name: string) => join(import.meta.dirname, '..', 'node_modules', '.bin', name)

/** The exports map with the `@coresdk/source` condition (the workspace's resolution to sources) taken out. */
function withoutSource(map: unknown): unknown {
  if (typeof map !== 'object' || map === null) return map
  return Object.fromEntries(
    Object.entries(map)
      .filter(([key]) => key !== '@coresdk/source')
      .map(([key, value]) => [key, withoutSource(value)]),
  )
}

/** The fields of a packed package.json the checks read. */
interface PackedManifest {
  exports: Record<string, Record<string, unknown> | string>
  license: string
  repository: unknown
  homepage: string
  bugs: unknown
  files?: string[]
}

describe.each(publicPackages())('$name tarball', (pkg) => {
  const tarball = tarballs[pkg.name]!
  const unpacked = join(dir, 'unpacked', pkg.name)
  let manifest: PackedManifest
  let files: string[]

  beforeAll(async () => {
    mkdirSync(unpacked, { recursive: true })
    const listed = await run('tar', ['-xzvf', tarball, '-C', unpacked], { cwd: dir })
    expect(listed.code, listed.stderr).toBe(0)
    files = `${listed.stdout}${listed.stderr}`
      .split('\n')
      .map((line) => line.trim().replace(/^package\//, ''))
      .filter(Boolean)
    manifest = JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8'))
  })

  it('publint --strict finds nothing', async () => {
    const result = await run(bin('publint'), ['--strict', tarball], { cwd: dir })
    expect(result.stdout, result.stdout + result.stderr).toContain('All good!')
    expect(result.code).toBe(0)
  })

  it('attw finds no problem in any resolution (node10, node16 from CommonJS and from ESM, bundler)', async () => {
    const result = await run(bin('attw'), [tarball, '--format', 'json'], { cwd: dir })
    const report = JSON.parse(result.stdout)
    const problems = (
      report.analysis.problems as { kind: string; entrypoint?: string; resolutionKind?: string }[]
    ).map((p) => `${p.kind} (${p.entrypoint} from ${p.resolutionKind})`)
    expect(problems).toEqual([])
    expect(result.code).toBe(0)
    const resolutions = report.analysis.entrypoints['.'].resolutions
    expect(Object.keys(resolutions).sort()).toEqual(['bundler', 'node10', 'node16-cjs', 'node16-esm'])
  })

  it('publishes the exports map without the @coresdk/source condition', () => {
    expect(JSON.stringify(manifest)).not.toContain('@coresdk/source')
    expect(manifest.exports).toEqual(withoutSource(pkg.manifest.exports))
    for (const subpath of Object.keys(manifest.exports)) {
      if (subpath === './package.json') continue
      expect(Object.keys(manifest.exports[subpath]!), subpath).toEqual(['import', 'require'])
    }
  })

  it('has what an npm page shows: README, LICENSE, repository, homepage, bugs', () => {
    expect(files).toContain('README.md')
    expect(files).toContain('LICENSE')
    expect(readFileSync(join(unpacked, 'package', 'LICENSE'), 'utf8')).toBe(
      readFileSync(join(root, 'LICENSE'), 'utf8'),
    )
    expect(manifest.license).toBe('MIT')
    expect(manifest.repository).toEqual({ type: 'git', url: `git+${REPOSITORY}.git`, directory: pkg.dir })
    expect(manifest.homepage).toBe(`${REPOSITORY}/tree/main/${pkg.dir}#readme`)
    expect(manifest.bugs).toEqual({ url: `${REPOSITORY}/issues` })
    const readme = readFileSync(join(unpacked, 'package', 'README.md'), 'utf8')
    expect(readme).toMatch(new RegExp(`^# ${pkg.name}\\n`))
    expect(readme, 'how to install it').toMatch(
      new RegExp(`^npm install (--save-dev )?(\\S+ )*${pkg.name}( |$)`, 'm'),
    )
    expect(readme).toMatch(/```ts\n/)
    // Relative links break on npm: every link of the page is absolute.
    for (const [, target] of readme.matchAll(/\]\(([^)]+)\)/g))
      expect(target, 'a link').toMatch(/^https:\/\//)
  })

  it('ships only its build, README, LICENSE and manifest, nothing of the workspace', () => {
    const allowed = new Set(['package.json', 'README.md', 'LICENSE', ...(manifest.files ?? [])])
    for (const file of files.filter((f) => !f.endsWith('/'))) {
      expect(allowed.has(file) || allowed.has(file.split('/')[0]!), file).toBe(true)
    }
    expect(files.some((f) => f.startsWith('src/'))).toBe(false)
  })
})
