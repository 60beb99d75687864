import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)

/** The runtimes besides Node that core and the Hono adapter are proven on, and where each npm package ships its binary. */
export const RUNTIMES = {
  bun: {
    wrapper: 'bun',
    platform: () => `@oven/bun-${process.platform}-${arch('aarch64')}`,
    binary: 'bin/bun',
  },
  deno: {
    wrapper: 'deno',
    platform: () => `@deno/${process.platform}-${arch('arm64')}-glibc`,
    binary: 'deno',
  },
  workerd: {
    wrapper: 'workerd',
    platform: () => `@cloudflare/workerd-${process.platform}-${process.arch === 'x64' ? '64' : 'arm64'}`,
    binary: 'bin/workerd',
  },
} as const

export type Runtime = keyof typeof RUNTIMES

function arch(arm: string): string {
  return process.arch === 'arm64' ? arm : process.arch
}

/**
 * The runtime's own executable, from the platform package its npm package depends on. Calling it directly skips
 * the wrapper packages' postinstall scripts (which only link the binary) and their Node launcher.
 */
export function runtimeBinary(runtime: Runtime): string {
  const { wrapper, platform, binary } = RUNTIMES[runtime]
  const fromWrapper = createRequire(require.resolve(`${wrapper}/package.json`))
  return join(dirname(fromWrapper.resolve(`${platform()}/package.json`)), binary)
}
