import ts from 'typescript'

/** One ```ts block of a Markdown page. */
export interface Snippet {
  /** The page, relative to the repository root. */
  page: string
  /** The block's position on its page, from 0. */
  index: number
  /** The line of the opening fence, from 1. */
  line: number
  code: string
}

/** The ```ts blocks of a page, in order. */
export function snippetsOf(page: string, markdown: string): Snippet[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match, index) => ({
    page,
    index,
    line: markdown.slice(0, match.index).split('\n').length,
    code: match[1]!,
  }))
}

/** The names a file's import declarations bind, keyed by `module:name`, with `*` for a namespace. */
function importedBindings(source: ts.SourceFile): Set<string> {
  const bound = new Set<string>()
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !statement.importClause) continue
    const from = (statement.moduleSpecifier as ts.StringLiteral).text
    const clause = statement.importClause
    if (clause.name) bound.add(`${from}:default:${clause.name.text}`)
    const named = clause.namedBindings
    if (named && ts.isNamespaceImport(named)) bound.add(`${from}:*:${named.name.text}`)
    if (named && ts.isNamedImports(named)) {
      for (const element of named.elements) {
        bound.add(`${from}:${(element.propertyName ?? element.name).text}:${element.name.text}`)
      }
    }
  }
  return bound
}

/**
 * A later block of a page as a reader pastes it: at the end of the page's first block, using its names. The later
 * block's imports of names the first block already imports are dropped (the reader has them), the rest are kept.
 */
export function continuation(first: string, later: string): string {
  const known = importedBindings(ts.createSourceFile('first.ts', first, ts.ScriptTarget.Latest))
  const source = ts.createSourceFile('later.ts', later, ts.ScriptTarget.Latest)
  let text = ''
  let cursor = 0
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !statement.importClause) continue
    const from = (statement.moduleSpecifier as ts.StringLiteral).text
    const clause = statement.importClause
    const keep: string[] = []
    if (clause.name && !known.has(`${from}:default:${clause.name.text}`))
      keep.push(`default as ${clause.name.text}`)
    const named = clause.namedBindings
    if (named && ts.isNamespaceImport(named) && !known.has(`${from}:*:${named.name.text}`)) {
      keep.push(`* as ${named.name.text}`)
    }
    if (named && ts.isNamedImports(named)) {
      for (const element of named.elements) {
        const imported = (element.propertyName ?? element.name).text
        if (!known.has(`${from}:${imported}:${element.name.text}`)) {
          keep.push(`${element.isTypeOnly ? 'type ' : ''}${imported} as ${element.name.text}`)
        }
      }
    }
    text += later.slice(cursor, statement.getStart(source))
    const star = keep.find((k) => k.startsWith('* as '))
    const rest = keep.filter((k) => k !== star)
    const head = clause.isTypeOnly ? 'import type' : 'import'
    if (star) text += `${head} ${star} from '${from}'\n`
    if (rest.length > 0) text += `${head} { ${rest.join(', ')} } from '${from}'`
    cursor = statement.getEnd()
  }
  return `${first}\n${text}${later.slice(cursor)}`
}
