#!/usr/bin/env node
import { parseArgs } from 'node:util'
import pg from 'pg'
import { migrate, schemaVersion } from './migrate.ts'
import { SCHEMA_VERSION } from './schema.ts'

const USAGE = `coresdk-postgres-store <command> [--url URL] [--schema NAME] [--table-prefix PREFIX]

Commands:
  migrate   create or upgrade the session store's tables (safe to run again, and from several hosts at once)
  status    print the schema version in the database and the one this package needs; exit 1 when they differ

Options:
  --url           the database (default: the DATABASE_URL environment variable)
  --schema        the PostgreSQL schema (default: public)
  --table-prefix  the prefix of every table and function (default: coresdk_)`

/** Runs the CLI with `argv` (without node and the script); resolves the exit code. */
async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  out: (line: string) => void,
): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    out(`${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { positionals, values } = parsed
  const command = positionals[0]
  if (values.help || command === undefined) {
    out(USAGE)
    return command === undefined && !values.help ? 2 : 0
  }
  if (command !== 'migrate' && command !== 'status') {
    out(`unknown command "${command}"\n\n${USAGE}`)
    return 2
  }
  const url = values.url ?? env.DATABASE_URL
  if (!url) {
    out('no database: pass --url or set DATABASE_URL')
    return 2
  }
  const options = { schema: values.schema, tablePrefix: values['table-prefix'] }
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 10_000 })
  pool.on('error', () => {})
  try {
    if (command === 'migrate') {
      const result = await migrate(pool, options)
      out(
        result.applied.length === 0
          ? `schema version ${result.to}: up to date`
          : `schema version ${result.from} → ${result.to} (applied ${result.applied.join(', ')})`,
      )
      return 0
    }
    const version = await schemaVersion(pool, options)
    out(`schema version ${version} in the database; this package needs ${SCHEMA_VERSION}`)
    return version === SCHEMA_VERSION ? 0 : 1
  } catch (error) {
    // The driver's message, not the URL (which may hold a password).
    const code = (error as { code?: unknown }).code
    out(`failed: ${(error as Error).message}${typeof code === 'string' ? ` (${code})` : ''}`)
    return 1
  } finally {
    await pool.end().catch(() => {})
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      schema: { type: 'string' },
      'table-prefix': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

main(process.argv.slice(2), process.env, (line) => console.log(line)).then((code) => {
  process.exitCode = code
})
