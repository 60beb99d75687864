import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import type { ModuleFormat } from '../src/fresh-project.ts'
import { formatBytes, installFootprint } from '../src/install-size.ts'
import { run } from '../src/run.ts'
import {
  RESOLUTIONS,
  TYPESCRIPT_VERSIONS,
  TYPESCRIPTS,
  tscOf,
  typescriptVersion,
  writeTypeCheck,
} from '../src/type-check.ts'
import { publicPackages } from '../src/workspace.ts'

const { projects, packSeconds } = inject('packaging')
const packages = publicPackages()
const entries = packages.flatMap((p) => p.entries)
/** The one entry that needs Vitest, which the fresh projects do not install. */
const NEEDS_VITEST = '@coresdk/testing/vitest'
const FORMATS: ModuleFormat[] = ['cjs', 'esm']

// Prints each entry's export count, or the error code and first line of its failure, as JSON.
const LOAD_CJS = `const entries = ${JSON.stringify(entries)}
const loaded = {}
for (const entry of entries) {
  try { loaded[entry] = Object.keys(require(entry)).length } catch (e) { loaded[entry] = e.code + ': ' + e.message.split('\\n')[0] }
}
console.log(JSON.stringify(loaded))
`
const LOAD_MJS = `import { createRequire } from 'node:module'
const entries = ${JSON.stringify(entries)}
const loaded = {}
for (const entry of entries) {
  try { loaded[entry] = Object.keys(await import(entry)).length } catch (e) { loaded[entry] = e.code + ': ' + e.message.split('\\n')[0] }
}
// require() and import share one module instance: one class, one client, whatever the mix.
const { CoreSDKError } = await import('@coresdk/core')
loaded.sameInstance = createRequire(import.meta.url)('@coresdk/core').CoreSDKError === CoreSDKError
console.log(JSON.stringify(loaded))
`
// The test kit on its own, with no test runner installed: mint a token, serve its JWKS, verify it with core.
const KIT = (load: string) => `${load}
async function main() {
  const { CoreSDKClient } = await kit('@coresdk/core')
  const { startJwksServer, TestIssuer } = await kit('@coresdk/testing')
  const issuer = await TestIssuer.create()
  const jwks = await startJwksServer({ keys: [issuer.keys] })
  const sdk = new CoreSDKClient({
    jwt: { issuer: issuer.issuer, audience: issuer.audience, algorithms: ['RS256'], jwksUri: jwks.jwksUrl },
  })
  const decision = await sdk.auth().authorize({ token: await issuer.mint({ sub: 'usr_kit' }) })
  await sdk.close()
  await jwks.close()
  let vitest = true
  try { await kit('vitest') } catch { vitest = false }
  console.log(JSON.stringify({ allowed: decision.allowed, vitest }))
}
main()
`

function expectInstalled(format: ModuleFormat): string {
  const project = projects[format]
  expect(project.installed, `npm install in the ${format} project failed:\n${project.output}`).toBe(true)
  return project.dir
}

async function node(dir: string, file: string): Promise<Record<string, unknown>> {
  const result = await run(process.execPath, [file], { cwd: dir, timeout: 60_000 })
  expect(result.code, result.stderr).toBe(0)
  // require(esm) is stable on the supported Node versions: no experimental warning reaches the user.
  expect(result.stderr).not.toContain('ExperimentalWarning')
  return JSON.parse(result.stdout.trim().split('\n').pop()!)
}

/** Every entry loaded with its exports; the Vitest entry failed only for want of Vitest. */
function expectEveryEntry(loaded: Record<string, unknown>): void {
  for (const entry of entries) {
    if (entry === NEEDS_VITEST) expect(loaded[entry], entry).toMatch(/vitest/)
    else expect(loaded[entry], entry).toBeGreaterThan(0)
  }
}

describe.each(FORMATS)('a fresh %s project, every tarball installed with npm', (format) => {
  beforeAll(() => {
    if (projects[format].installed) writeTypeCheck(projects[format].dir, format, entries)
  })

  it('require() loads every package', async () => {
    const dir = expectInstalled(format)
    writeFileSync(join(dir, 'load.cjs'), LOAD_CJS)
    expectEveryEntry(await node(dir, 'load.cjs'))
  })

  it('import loads every package, the same module instance as require()', async () => {
    const dir = expectInstalled(format)
    writeFileSync(join(dir, 'load.mjs'), LOAD_MJS)
    const loaded = await node(dir, 'load.mjs')
    expectEveryEntry(loaded)
    expect(loaded.sameInstance).toBe(true)
  })

  it('@coresdk/testing mints a token and serves its JWKS without Vitest, through require() and import', async () => {
    const dir = expectInstalled(format)
    writeFileSync(join(dir, 'kit.cjs'), KIT('const kit = async (name) => require(name)'))
    writeFileSync(join(dir, 'kit.mjs'), KIT('const kit = (name) => import(name)'))
    expect(await node(dir, 'kit.cjs')).toEqual({ allowed: true, vitest: false })
    expect(await node(dir, 'kit.mjs')).toEqual({ allowed: true, vitest: false })
  })

  describe.each(TYPESCRIPT_VERSIONS)('TypeScript %s', (ts) => {
    it.each(RESOLUTIONS)(
      'type-checks an import of every package with moduleResolution %s (strict)',
      async (resolution) => {
        const dir = expectInstalled(format)
        const args = ['-p', `tsconfig.${resolution}.json`, ...TYPESCRIPTS[ts].flags]
        const result = await run(process.execPath, [tscOf(dir, ts), ...args], {
          cwd: dir,
          timeout: 300_000,
        })
        expect(`${result.stdout}${result.stderr}`).toBe('')
        expect(result.code).toBe(0)
      },
    )
  })
})

describe('install size and dependency count per package', () => {
  it('measures each package in the ESM project (peers aside: the app has its framework already)', () => {
    const dir = expectInstalled('esm')
    const rows = packages.map((pkg) => installFootprint(dir, pkg.name))
    const table = [
      '| package | own size | dependencies (peers aside) | install size | peers |',
      '| --- | --- | --- | --- | --- |',
      ...rows.map(
        (r) =>
          `| \`${r.name}\` | ${formatBytes(r.ownBytes)} | ${r.dependencies.length}${r.dependencies.length ? `: ${r.dependencies.map((d) => d.replace(/@[^@]+$/, '')).join(', ')}` : ''} | ${formatBytes(r.totalBytes)} | ${r.peers.join(', ') || 'none'} |`,
      ),
    ].join('\n')
    const installs = FORMATS.map((f) => `${f} ${projects[f].seconds.toFixed(1)} s`).join(', ')
    const versions = TYPESCRIPT_VERSIONS.map((v) => typescriptVersion(dir, v)).join(' and ')
    const summary = `packed in ${packSeconds.toFixed(1)} s; npm install: ${installs}; TypeScript ${versions}; Node ${process.versions.node}`
    console.log(`\n${table}\n\n${summary}\n`)
    mkdirSync(join(import.meta.dirname, '..', 'test-results'), { recursive: true })
    writeFileSync(
      join(import.meta.dirname, '..', 'test-results', 'install-size.md'),
      `${table}\n\n${summary}\n`,
    )
    const testing = rows.find((r) => r.name === '@coresdk/testing')!
    expect(testing.dependencies.some((d) => d.startsWith('vitest@'))).toBe(false)
    for (const row of rows) expect(row.ownBytes, row.name).toBeGreaterThan(0)
  })
})
