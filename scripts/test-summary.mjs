#!/usr/bin/env node
// Sums the Vitest JSON reports of every workspace package into one line: `N passed, N failed, N skipped`.
// A package with a test script but no report (its run crashed or never started) counts as one failure.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
let passed = 0
let failed = 0
let skipped = 0
const problems = []
for (const group of ['packages', 'apps', 'checks']) {
  const dir = join(root, group)
  if (!existsSync(dir)) continue
  for (const name of readdirSync(dir)) {
    const manifest = join(dir, name, 'package.json')
    if (!existsSync(manifest)) continue
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'))
    if (!pkg.scripts?.test) continue
    const report = join(dir, name, '.vitest-result.json')
    if (!existsSync(report)) {
      failed += 1
      problems.push(`${pkg.name}: no test report (the test run did not complete)`)
      continue
    }
    const r = JSON.parse(readFileSync(report, 'utf8'))
    passed += r.numPassedTests ?? 0
    failed += r.numFailedTests ?? 0
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
    if ((r.numFailedTestSuites ?? 0) > 0 && (r.numFailedTests ?? 0) === 0) {
      failed += r.numFailedTestSuites
      problems.push(`${pkg.name}: ${r.numFailedTestSuites} test file(s) failed to load`)
    }
  }
}
const extra = Number(process.argv[2] ?? 0)
if (extra > 0) {
  failed += extra
  problems.push(`${extra} non-test task(s) failed (lint or type-check): see the output above`)
}
for (const p of problems) console.log(`# ${p}`)
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 ? 1 : 0)
