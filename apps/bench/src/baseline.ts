import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BENCH_DIR } from './children.ts'

/**
 * The last commit before the one pipeline (issue 11): the embedded and sidecar engines, the adapters on their own
 * glue. The bench runs its own server worker beside the current one, so "within 5 % of before" is a ratio taken in
 * the same rounds.
 */
export const DEFAULT_BASELINE = { ref: '4b38d80', name: 'before the one pipeline' } as const

/** A baseline checkout ready to run, or why there is none. */
export type Baseline =
  | { ok: true; ref: string; commit: string; name: string; benchDir: string; frameworks: string[] }
  | { ok: false; ref: string; name: string; reason: string }

const ROOT = join(BENCH_DIR, '..', '..')

/** The frameworks the baseline's bench can serve, read from its `FRAMEWORKS` list. */
function frameworksOf(benchDir: string): string[] {
  const source = readFileSync(join(benchDir, 'src', 'http', 'variants.ts'), 'utf8')
  const list = /FRAMEWORKS = \[([^\]]*)\]/.exec(source)?.[1] ?? ''
  return [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]!)
}

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

/** The first line of a failed command's output, for the report. */
function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: Buffer | string }).stderr
  const text = stderr ? String(stderr) : String(error)
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? 'failed'
  )
}

/**
 * Extracts the commit `ref` of this repository into `<tmpdir>/coresdk-bench-baseline/<commit>` and installs its dependencies
 * (once: a finished folder is reused), then builds its packages: its workers load them from their `dist`, as this
 * bench's do.
 * A missing history (a shallow clone) or a failed install is reported, not thrown: the baseline rows are then `n/a`.
 */
export function prepareBaseline(ref: string, name: string, log: (line: string) => void): Baseline {
  let commit: string
  try {
    commit = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])
  } catch {
    return { ok: false, ref, name, reason: `commit ${ref} is not in this clone's history` }
  }
  // Outside the checkout: the copy's own tool configurations (Biome's root, Vitest's) must not meet this one's.
  const dir = join(tmpdir(), 'coresdk-bench-baseline', commit.slice(0, 12))
  const benchDir = join(dir, 'apps', 'bench')
  const done = join(dir, '.installed')
  const built = join(dir, '.built')
  const ready: Extract<Baseline, { ok: true }> = { ok: true, ref, commit, name, benchDir, frameworks: [] }
  if (existsSync(built)) return { ...ready, frameworks: frameworksOf(benchDir) }
  try {
    if (!existsSync(done)) install(commit, dir, done, log)
    if (!existsSync(join(benchDir, 'src', 'http', 'server-worker.ts')))
      return { ok: false, ref, name, reason: `commit ${ref} has no HTTP bench to run` }
    log(`  baseline ${ref}: building its packages`)
    execFileSync('pnpm', ['run', 'build'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, npm_config_workspace_dir: dir },
      timeout: 600_000,
    })
    writeFileSync(built, `${commit}\n`)
    return { ...ready, frameworks: frameworksOf(benchDir) }
  } catch (error) {
    return { ok: false, ref, name, reason: `could not prepare commit ${ref}: ${firstLine(error)}` }
  }
}

/** Extracts `commit` into `dir` and installs its dependencies; the `done` mark records a finished install. */
function install(commit: string, dir: string, done: string, log: (line: string) => void): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  log(`  baseline: extracting ${commit.slice(0, 12)} and installing its dependencies`)
  execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C "${dir}"`], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  execFileSync('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own workspace: none of this checkout's settings leak into the install.
    env: { ...process.env, npm_config_workspace_dir: dir },
    timeout: 600_000,
  })
  writeFileSync(done, `${commit}\n`)
}
