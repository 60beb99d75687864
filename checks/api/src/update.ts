import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { ROOT, reports } from './report.ts'

// Writes every entry's API report from the built declarations (`pnpm api:update` builds first), and removes the
// reports of entries that no longer exist.
const written = new Set<string>()
for (const [entry, text] of reports()) {
  mkdirSync(dirname(entry.report), { recursive: true })
  writeFileSync(entry.report, text)
  written.add(entry.report)
  console.log(`wrote ${relative(ROOT, entry.report)}`)
}
for (const dir of new Set([...written].map((report) => dirname(report)))) {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name)
    if (name.endsWith('.api.d.ts') && !written.has(file)) {
      rmSync(file)
      console.log(`removed ${relative(ROOT, file)}`)
    }
  }
}
