import { closeSync, createWriteStream, fstatSync, openSync, readFileSync, readSync } from 'node:fs'
import { CoreSDKError, MemorySessionStore } from '@coresdk/core'
import { type AuditHead, type AuditSink, jsonLinesAuditSink, parseAuditRecord } from '@coresdk/core/audit'
import type { SessionStore } from '@coresdk/core/store'
import { createRedisAuditSink, createRedisSessionStore, redisClientOptions } from '@coresdk/redis-store'
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

// Enough for the longest record (a revoke-all of `maxPerUser` sessions) many times over.
const TAIL_BYTES = 1024 * 1024

/** The last record of an audit file, where its chain goes on; null for a missing or empty file. */
export function auditFileHead(path: string): AuditHead | null {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return null
    throw new CoreSDKError('invalid_config', 'CoreSDK sidecar: CORESDK_AUDIT_FILE cannot be read.')
  }
  try {
    const size = fstatSync(fd).size
    const length = Math.min(size, TAIL_BYTES)
    const buffer = Buffer.alloc(length)
    readSync(fd, buffer, 0, length, size - length)
    const last = buffer
      .toString('utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .pop()
    if (last === undefined) return null
    const record = parseAuditRecord(last)
    if (record === null)
      throw new CoreSDKError(
        'invalid_config',
        'CoreSDK sidecar: the last line of CORESDK_AUDIT_FILE is not an audit record; check the file with `coresdk audit verify` and move it aside.',
      )
    return { seq: record.seq, hash: record.hash }
  } finally {
    closeSync(fd)
  }
}

/**
 * The audit sink for the environment, or null: `CORESDK_AUDIT_FILE` (a path: JSON lines appended, the chain going on
 * from the file's last record; one sidecar per file) or `CORESDK_AUDIT_REDIS_STREAM` (a Redis Stream key on
 * `REDIS_URL`, which any number of sidecars and services may share). Not both.
 */
export function auditSinkFromEnv(env: Env): {
  sink: AuditSink
  kind: 'file' | 'redis'
  disconnect: () => Promise<void>
} | null {
  const file = value(env, 'CORESDK_AUDIT_FILE')
  const stream = value(env, 'CORESDK_AUDIT_REDIS_STREAM')
  if (file !== undefined && stream !== undefined)
    throw new CoreSDKError(
      'invalid_config',
      'CoreSDK sidecar: set CORESDK_AUDIT_FILE or CORESDK_AUDIT_REDIS_STREAM, not both.',
    )
  if (file !== undefined) {
    const head = auditFileHead(file)
    const out = createWriteStream(file, { flags: 'a', mode: 0o600 })
    let failed: Error | null = null
    out.on('error', (error) => {
      failed = error
    })
    const sink = jsonLinesAuditSink(
      {
        // Resolves once the line is handed to the file; a failed write fails the append (reported, never thrown).
        write: (line) =>
          new Promise<void>((resolve, reject) => {
            if (failed !== null) return reject(failed)
            out.write(line, (error) => (error ? reject(error) : resolve()))
          }),
      },
      { head },
    )
    return {
      sink,
      kind: 'file',
      disconnect: () => new Promise<void>((resolve) => out.end(() => resolve())),
    }
  }
  if (stream === undefined) return null
  const url = value(env, 'REDIS_URL')
  if (url === undefined)
    throw new CoreSDKError(
      'invalid_config',
      'CoreSDK sidecar: CORESDK_AUDIT_REDIS_STREAM needs REDIS_URL (the Redis the stream lives in).',
    )
  const client = new Redis(url, redisClientOptions())
  client.on('error', () => {
    // An unreachable Redis fails appends, which the trail reports; ioredis reconnects.
  })
  let sink: AuditSink
  try {
    sink = createRedisAuditSink({ client, stream })
  } catch (error) {
    client.disconnect()
    throw new CoreSDKError(
      'invalid_config',
      `CoreSDK sidecar: CORESDK_AUDIT_REDIS_STREAM is invalid; it accepts a key without {, } or spaces.`,
      { cause: error },
    )
  }
  return {
    sink,
    kind: 'redis',
    disconnect: async () => {
      client.disconnect()
    },
  }
}
