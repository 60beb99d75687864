import { readFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { BENCH_DIR } from './children.ts'

/** What the figures were measured on. */
export interface MachineInfo {
  cpuModel: string
  cpuCount: number
  memoryGiB: number
  /** The 1-minute load average when the run began (other work on the machine skews every figure). */
  loadAverage: number
  node: string
  platform: string
  redis: string | null
  postgres: string | null
}

/** The machine and runtime the bench runs on. */
export function machineInfo(redis: string | null, postgres: string | null = null): MachineInfo {
  const list = cpus()
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    memoryGiB: totalmem() / 1024 ** 3,
    loadAverage: loadavg()[0] ?? 0,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    redis,
    postgres,
  }
}

/** The packages whose versions the report names: the bench's own dependencies, and core's jose. */
export const REPORTED_PACKAGES = [
  '@coresdk/core',
  '@coresdk/express',
  '@coresdk/fastify',
  '@coresdk/hono',
  '@coresdk/nestjs',
  '@coresdk/redis-store',
  '@coresdk/postgres-store',
  'express',
  'fastify',
  'hono',
  '@hono/node-server',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/platform-fastify',
  'jose',
  'express-jwt',
  '@fastify/jwt',
  '@nestjs/jwt',
  'ioredis',
  'pg',
  'autocannon',
] as const

/** The installed version of each package, read from its package.json as this package resolves it. */
export function packageVersions(names: readonly string[] = REPORTED_PACKAGES): Record<string, string> {
  const versions: Record<string, string> = {}
  for (const name of names) {
    try {
      const manifest = JSON.parse(readFileSync(join(BENCH_DIR, 'node_modules', name, 'package.json'), 'utf8'))
      versions[name] = String(manifest.version)
    } catch {
      versions[name] = 'not installed'
    }
  }
  return versions
}
