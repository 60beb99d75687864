import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ensurePostgres } from '@coresdk/testing'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { SCHEMA_VERSION } from '../src/index.ts'
import { uniqueSchema } from './helpers.ts'

const postgres = await ensurePostgres()
afterAll(() => postgres.stop?.())

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))

/** Runs the CLI as its own process, as `coresdk-postgres-store …` would. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@coresdk/source', '--import', 'tsx', CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    )
  })
}

describe('coresdk-postgres-store without a database', () => {
  it('prints its usage and exits 2 without a command, and refuses an unknown one', async () => {
    expect(await cli([])).toMatchObject({ code: 2, out: expect.stringContaining('Commands:') })
    expect(await cli(['drop'])).toMatchObject({ code: 2, out: expect.stringContaining('unknown command') })
    expect(await cli(['migrate'])).toMatchObject({ code: 2, out: expect.stringContaining('DATABASE_URL') })
  }, 60_000)
})

describe.skipIf(postgres.url === null)(
  `coresdk-postgres-store on PostgreSQL ${postgres.reason ?? ''}`,
  () => {
    it('migrate creates the tables once, status reports the version', async () => {
      const schema = uniqueSchema('cli')
      const env = { DATABASE_URL: postgres.url! }
      try {
        expect(await cli(['status', '--schema', schema], env)).toMatchObject({
          code: 1,
          out: expect.stringContaining(
            `schema version 0 in the database; this package needs ${SCHEMA_VERSION}`,
          ),
        })
        expect(await cli(['migrate', '--schema', schema], env)).toMatchObject({
          code: 0,
          out: expect.stringContaining(`schema version 0 → ${SCHEMA_VERSION}`),
        })
        expect(await cli(['migrate', '--schema', schema, '--url', postgres.url!])).toMatchObject({
          code: 0,
          out: expect.stringContaining('up to date'),
        })
        expect((await cli(['status', '--schema', schema], env)).code).toBe(0)
      } finally {
        const client = new pg.Client({ connectionString: postgres.url! })
        await client.connect()
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        await client.end()
      }
    }, 60_000)
  },
)
