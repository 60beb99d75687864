import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/** The repository's root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/** One public entry of one package, and where its report is kept. */
export interface Entry {
  /** The import specifier: `@coresdk/core`, `@coresdk/core/store`. */
  specifier: string
  /** The package's folder. */
  packageDir: string
  /** The built declarations the entry's `import` condition points at. */
  declarations: string
  /** The committed report: `packages/<pkg>/api/<entry>.api.d.ts`. */
  report: string
}

type Conditions = { import?: { types?: string } | string; types?: string }

/** Every entry of every published package, read from the `exports` maps. */
export function entries(): Entry[] {
  const found: Entry[] = []
  const packages = join(ROOT, 'packages')
  for (const name of readdirSync(packages).sort()) {
    const packageDir = join(packages, name)
    const manifestPath = join(packageDir, 'package.json')
    if (!existsSync(manifestPath)) continue
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
      name: string
      private?: boolean
      exports?: Record<string, Conditions | string>
    }
    if (manifest.private || !manifest.exports) continue
    for (const [subpath, conditions] of Object.entries(manifest.exports)) {
      if (typeof conditions === 'string') continue
      const types = typeof conditions.import === 'object' ? conditions.import.types : conditions.types
      if (types === undefined) continue
      const base = subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-')
      found.push({
        specifier: subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
        packageDir,
        declarations: join(packageDir, types),
        report: join(packageDir, 'api', `${base}.api.d.ts`),
      })
    }
  }
  return found
}

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed })

/** A declaration as the report shows it: no comments, no `export`/`declare` keywords (the report adds its own). */
function print(node: ts.Node, file: ts.SourceFile): string {
  let text = printer.printNode(ts.EmitHint.Unspecified, node, file)
  text = text.replace(/^export\s+/, '').replace(/^declare\s+/, '')
  return text.replace(/ {4}/g, '  ')
}

function isTopLevel(node: ts.Node): boolean {
  if (node.parent === undefined) return false
  return (
    ts.isSourceFile(node.parent) ||
    (ts.isVariableDeclarationList(node.parent) && isTopLevel(node.parent.parent))
  )
}

/** The statement to print for a declaration: a variable's whole statement, else the declaration itself. */
function statementOf(declaration: ts.Declaration): ts.Node {
  if (ts.isVariableDeclaration(declaration)) return declaration.parent.parent
  return declaration
}

/** The exports of an entry, sorted by name, each with the symbol it stands for. */
function exportsOf(entry: Entry, program: ts.Program): Array<{ name: string; target: ts.Symbol }> {
  const checker = program.getTypeChecker()
  const file = program.getSourceFile(entry.declarations)
  if (file === undefined)
    throw new Error(`${entry.specifier}: ${entry.declarations} is not built (run pnpm build).`)
  const moduleSymbol = checker.getSymbolAtLocation(file)
  if (moduleSymbol === undefined)
    throw new Error(`${entry.specifier}: ${entry.declarations} is not a module.`)
  return checker
    .getExportsOfModule(moduleSymbol)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((symbol) => ({ name: symbol.name, target: resolveAlias(checker, symbol) }))
}

function resolveAlias(checker: ts.TypeChecker, symbol: ts.Symbol): ts.Symbol {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
}

/**
 * Where each declaration is shown in full: the report of the first entry (in `exports` order, the root first) that
 * exports it. The other reports name it and point there, so that each declaration stands in one report.
 */
export function homes(all: readonly Entry[], program: ts.Program): Map<ts.Node, string> {
  const home = new Map<ts.Node, string>()
  for (const entry of all)
    for (const { target } of exportsOf(entry, program))
      for (const declaration of target.declarations ?? [])
        if (isTopLevel(declaration) && !home.has(statementOf(declaration)))
          home.set(statementOf(declaration), entry.specifier)
  return home
}

/**
 * The API report of one entry: every export (sorted by name) with its declaration, the module augmentations its
 * declarations make (`declare global`, `declare module 'fastify'`), and the package's own declarations the exports
 * refer to without exporting them. Built from the declarations tsup emitted, whose shared chunks have hashed names
 * and one-letter export aliases: the report follows them to the real declarations, so it changes only when the API
 * does.
 */
export function report(entry: Entry, program: ts.Program, home: Map<ts.Node, string>): string {
  const checker = program.getTypeChecker()
  const file = program.getSourceFile(entry.declarations)!
  const dist = dirname(entry.declarations) + sep
  const own = (node: ts.Node) => node.getSourceFile().fileName.startsWith(dist)

  const lines: string[] = []
  const shown = new Set<ts.Node>()
  const pending: ts.Declaration[] = []

  for (const { name, target } of exportsOf(entry, program)) {
    const declarations = (target.declarations ?? []).filter((d) => isTopLevel(d))
    if (declarations.length === 0) {
      lines.push(`export { ${name} }`, '')
      continue
    }
    const local = target.name
    const named = local === name ? local : `${local} as ${name}`
    for (const declaration of declarations) {
      const statement = statementOf(declaration)
      if (shown.has(statement)) continue
      shown.add(statement)
      if (!own(declaration)) {
        lines.push(`export { ${named} } // from ${moduleNameOf(declaration, entry)}`)
        continue
      }
      const at = home.get(statement)
      if (at !== undefined && at !== entry.specifier) {
        lines.push(`export { ${named} } // declared in the report of ${at}`)
        continue
      }
      const keyword =
        ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) ? '' : 'declare '
      const rename = local === name ? '' : `// exported as ${name}\n`
      lines.push(`${rename}export ${keyword}${print(statement, declaration.getSourceFile())}`)
      pending.push(declaration)
    }
    lines.push('')
  }

  // The package's own declarations that the exports name without exporting them.
  const referenced: string[] = []
  const references: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      const symbol = checker.getSymbolAtLocation(node)
      const target = symbol && resolveAlias(checker, symbol)
      for (const declaration of target?.declarations ?? []) {
        if (!isTopLevel(declaration) || !own(declaration)) continue
        const statement = statementOf(declaration)
        if (shown.has(statement) || ts.isImportSpecifier(declaration) || ts.isSourceFile(declaration))
          continue
        shown.add(statement)
        const at = home.get(statement)
        if (at !== undefined) {
          references.push(`// ${target!.name}: exported from ${at}`)
          continue
        }
        const keyword =
          ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) ? '' : 'declare '
        referenced.push(`${keyword}${print(statement, declaration.getSourceFile())}`)
        pending.push(declaration)
      }
    }
    ts.forEachChild(node, visit)
  }
  while (pending.length > 0) visit(statementOf(pending.shift()!))

  // Augmentations anywhere in the entry's own declaration files: they change other modules' types.
  const augmentations: string[] = []
  for (const source of program.getSourceFiles()) {
    if (!source.fileName.startsWith(dist)) continue
    if (!reaches(program, file, source)) continue
    for (const statement of source.statements) {
      if (!ts.isModuleDeclaration(statement)) continue
      const isGlobal = (statement.flags & ts.NodeFlags.GlobalAugmentation) !== 0
      if (isGlobal || ts.isStringLiteral(statement.name)) augmentations.push(print(statement, source))
    }
  }

  const header = [
    `// The public API of ${entry.specifier}, from ${relative(entry.packageDir, entry.declarations)}.`,
    '// Generated by `pnpm api:update`; the API check fails when the build differs from it.',
    '',
  ]
  const sections = [...header, ...lines]
  if (references.length > 0 || referenced.length > 0)
    sections.push('// Named by the API above, not exported from this entry:', '')
  if (references.length > 0) sections.push(...references.sort(), '')
  sections.push(...[...new Set(referenced)].flatMap((r) => [r, '']))
  if (augmentations.length > 0)
    sections.push(
      '// Module augmentations:',
      '',
      ...[...new Set(augmentations)].flatMap((a) => [`declare ${a}`, '']),
    )
  return `${sections.join('\n').trimEnd()}\n`
}

/** Whether `target` is `from` or among the files `from` imports, transitively. */
function reaches(program: ts.Program, from: ts.SourceFile, target: ts.SourceFile): boolean {
  const seen = new Set<string>()
  const stack = [from.fileName]
  while (stack.length > 0) {
    const name = stack.pop()!
    if (name === target.fileName) return true
    if (seen.has(name)) continue
    seen.add(name)
    const source = program.getSourceFile(name)
    if (source === undefined) continue
    for (const statement of source.statements) {
      const specifier =
        (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier
      if (!specifier || !ts.isStringLiteral(specifier)) continue
      const resolved = ts.resolveModuleName(specifier.text, name, program.getCompilerOptions(), ts.sys)
      const next = resolved.resolvedModule?.resolvedFileName
      if (next?.startsWith(dirname(from.fileName))) stack.push(next)
    }
  }
  return false
}

/** Which package a re-exported declaration comes from, for the report's `export { X } // from …` lines. */
function moduleNameOf(declaration: ts.Node, entry: Entry): string {
  const fileName = declaration.getSourceFile().fileName
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(fileName.split(sep).join('/'))
  if (match) return match[1]!
  const packages = join(ROOT, 'packages') + sep
  if (fileName.startsWith(packages)) {
    const dir = fileName.slice(packages.length).split(sep)[0]!
    const manifest = JSON.parse(readFileSync(join(packages, dir, 'package.json'), 'utf8')) as { name: string }
    return manifest.name
  }
  return relative(entry.packageDir, fileName)
}

/** One program over every entry's built declarations, resolved as a bundler-using TypeScript project would. */
export function program(all: readonly Entry[]): ts.Program {
  return ts.createProgram({
    rootNames: all.map((entry) => entry.declarations),
    options: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
      types: ['node'],
      strict: true,
      skipLibCheck: true,
      noEmit: true,
    },
  })
}

/** The report of every entry, by entry. */
export function reports(): Map<Entry, string> {
  const all = entries()
  const built = program(all)
  const home = homes(all, built)
  return new Map(all.map((entry) => [entry, report(entry, built, home)]))
}
