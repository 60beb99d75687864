import { connect, createServer, type Socket } from 'node:net'
import pg from 'pg'
import {
  createPostgresSessionStore,
  migrate,
  type PostgresSessionStore,
  type PostgresSessionStoreOptions,
  postgresPoolOptions,
} from '../src/index.ts'

/** A schema name of its own per test file and run, so that runs sharing a database never see each other. */
export function uniqueSchema(label: string): string {
  return `t_${label}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.slice(0, 30)
}

/** A pool with the recommended options; a broken idle connection must not crash the test process. */
export function openPool(url: string, overrides: pg.PoolConfig & { commandTimeout?: number } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, ...postgresPoolOptions(overrides) })
  pool.on('error', () => {})
  return pool
}

/** Creates the store's tables in `schema`, and returns how to drop them again. */
export async function createSchema(url: string, schema: string): Promise<() => Promise<void>> {
  const admin = openPool(url, { commandTimeout: 10_000 })
  const drop = async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
    await admin.end()
  }
  try {
    await migrate(admin, { schema })
  } catch (error) {
    // A migration that failed half-way must not leave its schema behind in a shared database.
    await drop()
    throw error
  }
  return drop
}

/** A store on a pool of its own, listening for revocations; `close()` ends both. */
export async function openStore(
  url: string,
  options: Omit<PostgresSessionStoreOptions, 'pool'> & {
    pool?: pg.PoolConfig & { commandTimeout?: number }
  } = {},
): Promise<{ store: PostgresSessionStore; pool: pg.Pool; close(): Promise<void> }> {
  const { pool: poolOptions, ...storeOptions } = options
  const pool = openPool(url, { commandTimeout: storeOptions.commandTimeout, ...poolOptions })
  const store = createPostgresSessionStore({ ...storeOptions, pool })
  if (storeOptions.listener !== false) await store.ready(10_000)
  return {
    store,
    pool,
    async close() {
      await store.close()
      await pool.end()
    },
  }
}

/** The p-th percentile (0–100, nearest rank) of some numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}

/** A TCP relay in front of PostgreSQL that can turn into a black hole: connections stay open and nothing gets through. */
export interface BlackHoleProxy {
  /** The database URL through the relay. */
  url: string
  /** From now on nothing passes, on open connections or new ones; neither side is told. */
  hole(): void
  /** New connections pass again; those caught in the hole stay dead, as after a real partition. */
  restore(): void
  close(): Promise<void>
}

/** Starts a {@link BlackHoleProxy} on a free port of 127.0.0.1, forwarding to the server of `url`. */
export async function startBlackHoleProxy(url: string): Promise<BlackHoleProxy> {
  const target = new URL(url)
  const sockets = new Set<Socket>()
  const caught = new WeakSet<Socket>()
  let holed = false
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    if (holed) {
      caught.add(socket)
      return
    }
    const upstream = connect(Number(target.port || 5432), target.hostname)
    sockets.add(upstream)
    upstream.on('error', () => {})
    upstream.on('close', () => {
      sockets.delete(upstream)
      if (!caught.has(socket)) socket.destroy()
    })
    socket.on('close', () => {
      if (!caught.has(socket)) upstream.destroy()
    })
    socket.on('data', (chunk) => {
      if (!caught.has(socket)) upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (!caught.has(socket)) socket.write(chunk)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const relayed = new URL(url)
  relayed.hostname = '127.0.0.1'
  relayed.port = String(port)
  return {
    url: relayed.toString(),
    hole() {
      holed = true
      for (const socket of sockets) caught.add(socket)
    },
    restore() {
      holed = false
    },
    async close() {
      const closed = new Promise((resolve) => server.close(resolve))
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}
