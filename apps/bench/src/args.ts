import { DEFAULT_BASELINE } from './baseline.ts'
import { FRAMEWORKS, type Framework } from './http/variants.ts'

/** The parts of the bench. */
export const PARTS = ['verify', 'http', 'instructions', 'sessions'] as const
/** One part. */
export type Part = (typeof PARTS)[number]

/** The command line of `pnpm bench`. */
export interface BenchArgs {
  /** Short rounds: the whole run in under two minutes. */
  quick: boolean
  /** Write docs/benchmarks.md (always on for a full run). */
  write: boolean
  /** Profile the subjects of missed targets (default: on for a full run, off for --quick). */
  profile: boolean
  parts: Part[]
  frameworks: Framework[]
  /** The earlier commit measured beside this build (`coresdk-baseline` rows), or null for none. */
  baseline: string | null
  help: boolean
}

/** The usage text. */
export const USAGE = `pnpm bench [--quick] [--write] [--profile | --no-profile] [--only=verify,http,instructions,sessions] [--frameworks=express,fastify,hono,nestjs,nestjs-fastify] [--baseline[=REF] | --no-baseline]

  --quick        short rounds (the whole run takes under two minutes); docs/benchmarks.md is written only with --write
  --write        write docs/benchmarks.md (a full run always does)
  --profile      profile the subject of each missed target (on by default in a full run)
  --only=…       run only these parts (instructions: callgrind counts per request; left out of --quick unless named)
  --frameworks=… load only these frameworks' apps
  --baseline=REF also load CoreSDK as commit REF built it, in the same rounds (default in a full run: ${DEFAULT_BASELINE.ref},
                 ${DEFAULT_BASELINE.name}); --no-baseline leaves it out (the default of --quick)`

function list<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
  for (const item of items) {
    if (!allowed.includes(item as T))
      throw new Error(`${flag}: "${item}" is not one of ${allowed.join(', ')}`)
  }
  return items as T[]
}

/** Parses the arguments pnpm passes through (a bare `--` is ignored); throws on anything unknown. */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = {
    quick: false,
    write: false,
    profile: false,
    parts: [...PARTS],
    frameworks: [...FRAMEWORKS],
    baseline: null,
    help: false,
  }
  let profile: boolean | undefined
  let baseline: string | null | undefined
  let only: Part[] | undefined
  for (const arg of argv) {
    if (arg === '--') continue
    else if (arg === '--quick') args.quick = true
    else if (arg === '--write') args.write = true
    else if (arg === '--profile') profile = true
    else if (arg === '--no-profile') profile = false
    else if (arg === '--help' || arg === '-h') args.help = true
    else if (arg === '--baseline') baseline = DEFAULT_BASELINE.ref
    else if (arg === '--no-baseline') baseline = null
    else if (arg.startsWith('--baseline=')) {
      const ref = arg.slice(11)
      // A commit, branch or tag name: never something git would read as an option.
      if (!/^[\w][\w./^~-]*$/.test(ref))
        throw new Error(`--baseline: "${ref}" is not a commit, branch or tag name`)
      baseline = ref
    } else if (arg.startsWith('--only=')) only = list(arg.slice(7), PARTS, '--only')
    else if (arg.startsWith('--frameworks='))
      args.frameworks = list(arg.slice(13), FRAMEWORKS, '--frameworks')
    else throw new Error(`unknown argument "${arg}"\n\n${USAGE}`)
  }
  args.parts = only ?? PARTS.filter((part) => !args.quick || part !== 'instructions')
  if (!args.quick) args.write = true
  args.profile = profile ?? !args.quick
  args.baseline = baseline === undefined ? (args.quick ? null : DEFAULT_BASELINE.ref) : baseline
  return args
}
