import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { entries, ROOT, reports } from '../src/report.ts'

/** The lines that differ between the committed report and the build's, as a unified-diff-like list. */
function difference(committed: string, built: string): string {
  const before = committed.split('\n')
  const after = built.split('\n')
  const removed = before.filter((line) => !after.includes(line)).map((line) => `- ${line}`)
  const added = after.filter((line) => !before.includes(line)).map((line) => `+ ${line}`)
  return [...removed, ...added].join('\n')
}

const built = reports()

describe('the API report: every public entry’s declarations equal the committed report', () => {
  for (const [entry, text] of built) {
    it(entry.specifier, () => {
      const path = relative(ROOT, entry.report)
      if (!existsSync(entry.report))
        expect.fail(
          `${path} is missing: the entry ${entry.specifier} is new. Run pnpm api:update and commit it.`,
        )
      const committed = readFileSync(entry.report, 'utf8')
      if (committed !== text) {
        expect.fail(
          `The public API of ${entry.specifier} changed (- ${path}, + the build). If it is meant to, run ` +
            `pnpm api:update and commit the report:\n${difference(committed, text) || '(order or blank lines only)'}`,
        )
      }
    })
  }

  it('keeps no report of an entry that is gone', () => {
    const expected = new Set(entries().map((entry) => entry.report))
    const dirs = new Set([...expected].map((report) => dirname(report)))
    const stale = [...dirs].flatMap((dir) =>
      readdirSync(dir)
        .filter((name) => name.endsWith('.api.d.ts'))
        .map((name) => join(dir, name))
        .filter((file) => !expected.has(file)),
    )
    expect(stale.map((file) => relative(ROOT, file))).toEqual([])
  })
})
