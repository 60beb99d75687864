import { EventEmitter } from 'node:events'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { createPostgresSessionStore } from './postgres-session-store.ts'

/** A client class that records how it was made and never connects. */
function recordingClient() {
  const configs: Array<Record<string, unknown>> = []
  class Client extends EventEmitter {
    constructor(config: Record<string, unknown>) {
      super()
      configs.push(config)
    }
    connect() {
      return new Promise(() => {})
    }
    end() {
      return Promise.resolve()
    }
  }
  return { Client, configs }
}

describe('createPostgresSessionStore', () => {
  it('opens its listener with the pool’s settings, the password the pool hides from logs included', async () => {
    const { Client, configs } = recordingClient()
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port: 1,
      user: 'app',
      password: 'hidden-password',
      database: 'sessions',
      Client: Client as never,
    })
    expect(Object.keys(pool.options)).not.toContain('password')
    const store = createPostgresSessionStore({ pool, sweepInterval: 0 })
    try {
      expect(configs).toHaveLength(1)
      expect(configs[0]).toMatchObject({
        host: '127.0.0.1',
        port: 1,
        user: 'app',
        password: 'hidden-password',
        database: 'sessions',
        keepAlive: true,
      })
    } finally {
      await store.close()
      await pool.end()
    }
  })

  it('refuses settings it cannot use, at construction, naming them', () => {
    const pool = new pg.Pool()
    expect(() => createPostgresSessionStore({ pool, schema: 'Bad-Name' })).toThrow(/schema/)
    expect(() => createPostgresSessionStore({ pool, tablePrefix: 'x'.repeat(21) })).toThrow(/tablePrefix/)
    expect(() => createPostgresSessionStore({ pool, commandTimeout: 0 })).toThrow(/commandTimeout/)
    expect(() => createPostgresSessionStore({ pool: {} as never })).toThrow(/pool/)
    void pool.end()
  })
})
