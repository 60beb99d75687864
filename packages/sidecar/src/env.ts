import { readFileSync } from 'node:fs'
import { CoreSDKError, MemorySessionStore } from '@coresdk/core'
import type { SessionStore } from '@coresdk/core/store'
import { createRedisSessionStore, redisClientOptions } from '@coresdk/redis-store'
import { Redis } from 'ioredis'
import { parseTenants, type TenantKey } from './access.ts'
import type { SidecarServerOptions } from './server.ts'

type Env = Record<string, string | undefined>

function value(env: Env, name: string): string | undefined {
  const raw = env[name]
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim()
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = value(env, name)
  if (raw === undefined) return fallback
  const parsed = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new CoreSDKError(
      'invalid_config',
      `CoreSDK sidecar: ${name}="${raw}" is invalid; it accepts an integer from ${min} to ${max}.`,
    )
  }
  return parsed
}

function flag(env: Env, name: string): boolean {
  const raw = value(env, name)
  if (raw === undefined) return false
  const lower = raw.toLowerCase()
  if (lower === '1' || lower === 'true') return true
  if (lower === '0' || lower === 'false') return false
  throw new CoreSDKError(
    'invalid_config',
    `CoreSDK sidecar: ${name}="${raw}" is invalid; it accepts 1 or true, 0 or false.`,
  )
}

/**
 * The server options the `coresdk-sidecar` command reads from its environment: `CORESDK_SIDECAR_HOST`
 * (default 127.0.0.1), `CORESDK_SIDECAR_PORT` or `PORT` (default 7233), `CORESDK_SIDECAR_SECRET`,
 * `CORESDK_SIDECAR_TENANTS` or `CORESDK_SIDECAR_TENANTS_FILE`, `CORESDK_SIDECAR_EXPOSE_TOKENS` (default off),
 * `CORESDK_SIDECAR_BODY_LIMIT` (bytes) and `CORESDK_SIDECAR_SHUTDOWN_TIMEOUT_MS`. The engine itself reads the usual `CORESDK_*` settings.
 */
export function sidecarOptionsFromEnv(
  env: Env,
): Omit<SidecarServerOptions, 'sdk' | 'config' | 'store' | 'logger'> {
  const portName = value(env, 'CORESDK_SIDECAR_PORT') !== undefined ? 'CORESDK_SIDECAR_PORT' : 'PORT'
  let tenants: TenantKey[] | undefined
  const inline = value(env, 'CORESDK_SIDECAR_TENANTS')
  const file = value(env, 'CORESDK_SIDECAR_TENANTS_FILE')
  if (inline !== undefined && file !== undefined) {
    throw new CoreSDKError(
      'invalid_config',
      'CoreSDK sidecar: set CORESDK_SIDECAR_TENANTS or CORESDK_SIDECAR_TENANTS_FILE, not both.',
    )
  }
  if (inline !== undefined) tenants = parseTenants(inline)
  if (file !== undefined) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      throw new CoreSDKError(
        'invalid_config',
        'CoreSDK sidecar: CORESDK_SIDECAR_TENANTS_FILE cannot be read.',
      )
    }
    tenants = parseTenants(text, 'CORESDK_SIDECAR_TENANTS_FILE')
  }
  const options: Omit<SidecarServerOptions, 'sdk' | 'config' | 'store' | 'logger'> = {
    host: value(env, 'CORESDK_SIDECAR_HOST') ?? '127.0.0.1',
    port: integer(env, portName, 7233, 0, 65_535),
    bodyLimit: integer(env, 'CORESDK_SIDECAR_BODY_LIMIT', 65_536, 1024, 16_777_216),
    shutdownTimeout: integer(env, 'CORESDK_SIDECAR_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    exposeTokens: flag(env, 'CORESDK_SIDECAR_EXPOSE_TOKENS'),
  }
  const secret = value(env, 'CORESDK_SIDECAR_SECRET')
  if (secret !== undefined) options.secret = secret
  if (tenants !== undefined) options.tenants = tenants
  return options
}

/** The session store for the environment: Redis when `REDIS_URL` is set, else memory (one process, lost on restart). */
export function sessionStoreFromEnv(env: Env): {
  store: SessionStore
  kind: 'redis' | 'memory'
  disconnect: () => Promise<void>
} {
  const url = value(env, 'REDIS_URL')
  if (url === undefined)
    return { store: new MemorySessionStore(), kind: 'memory', disconnect: async () => {} }
  const client = new Redis(url, redisClientOptions())
  client.on('error', () => {
    // Connection errors surface as failed store calls (answered per failMode) and on /readyz; ioredis reconnects.
  })
  return {
    store: createRedisSessionStore({ client }),
    kind: 'redis',
    disconnect: async () => {
      // The store never closes the client it was given: this is its owner.
      client.disconnect()
    },
  }
}
