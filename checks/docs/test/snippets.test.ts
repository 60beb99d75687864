import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'
import { continuation, type Snippet, snippetsOf } from '../src/snippets.ts'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const work = fileURLToPath(new URL('../.snippets/', import.meta.url))

/** Every page a user reads: the README, docs/*.md and each package's README (its npm page). */
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  ...readdirSync(join(root, 'packages')).map((name) => `packages/${name}/README.md`),
].filter((page) => {
  try {
    readFileSync(join(root, page))
    return true
  } catch {
    return false
  }
})

/**
 * The settings the docs state (docs/install.md): an ES module package with TypeScript's `strict`, `module` and
 * `moduleResolution` `nodenext`, Node's types; the NestJS page adds Nest's decorator settings. The packages resolve
 * to their built declarations, as in an installed project.
 */
const options: ts.CompilerOptions = {
  strict: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts'],
  types: ['node'],
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  skipLibCheck: true,
  noEmit: true,
}

interface Candidate {
  snippet: Snippet
  /** How the block is read: on its own, or at the end of the page's first block. */
  files: { as: 'alone' | 'after the first block'; file: string }[]
}

function slug(page: string): string {
  return page.replace(/\.md$/, '').replaceAll('/', '-')
}

rmSync(work, { recursive: true, force: true })
mkdirSync(work, { recursive: true })
const candidates: Candidate[] = []
for (const page of pages) {
  const snippets = snippetsOf(page, readFileSync(join(root, page), 'utf8'))
  for (const snippet of snippets) {
    const base = join(work, `${slug(page)}-${snippet.index}`)
    const files: Candidate['files'] = [{ as: 'alone', file: `${base}.ts` }]
    writeFileSync(`${base}.ts`, snippet.code)
    if (snippet.index > 0) {
      writeFileSync(`${base}-continued.ts`, continuation(snippets[0]!.code, snippet.code))
      files.push({ as: 'after the first block', file: `${base}-continued.ts` })
    }
    candidates.push({ snippet, files })
  }
}

const program = ts.createProgram(
  candidates.flatMap((c) => c.files.map((f) => f.file)),
  options,
)
const host: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (name) => name,
  getCurrentDirectory: () => work,
  getNewLine: () => '\n',
}
function errorsOf(file: string): string {
  const source = program.getSourceFile(file)
  if (!source) return `${file} was not compiled`
  const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
  return ts.formatDiagnostics(diagnostics, host)
}

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

describe('every TypeScript snippet of the docs and READMEs compiles under strict, as pasted', () => {
  it('finds the snippets of every page', () => {
    expect(pages).toContain('docs/express.md')
    expect(candidates.length).toBeGreaterThan(60)
  })

  for (const { snippet, files } of candidates) {
    const where = `${snippet.page}:${snippet.line}`
    it(`${where} compiles ${snippet.index === 0 ? 'on its own' : 'on its own or after the first block'}`, () => {
      const attempts = files.map((f) => ({ as: f.as, errors: errorsOf(f.file) }))
      const compiled = attempts.some((a) => a.errors === '')
      const report = attempts
        .map((a) => `${a.as}:\n${a.errors.replaceAll(work, '').replace(/^/gm, '  ')}`)
        .join('\n')
      expect(compiled, `${where} does not compile\n${report}`).toBe(true)
    })
  }
})
