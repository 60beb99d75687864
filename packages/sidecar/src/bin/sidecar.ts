#!/usr/bin/env node
import { auditSinkFromEnv, sessionStoreFromEnv, sidecarOptionsFromEnv } from '../env.ts'
import { stdoutLogger } from '../logger.ts'
import { createSidecarServer } from '../server.ts'

// The sidecar process: the engine configured from CORESDK_* (never in sidecar mode itself), sessions in Redis when
// REDIS_URL is set, an audit trail when CORESDK_AUDIT_FILE or CORESDK_AUDIT_REDIS_STREAM is, one JSON log line per
// request, and a graceful stop on SIGTERM or SIGINT.
async function main(): Promise<void> {
  const env = process.env
  let disconnect: () => Promise<void> = async () => {}
  let sidecar: ReturnType<typeof createSidecarServer>
  try {
    const options = sidecarOptionsFromEnv(env)
    const backing = sessionStoreFromEnv(env)
    disconnect = backing.disconnect
    const audit = auditSinkFromEnv(env)
    if (audit !== null)
      disconnect = async () => {
        await backing.disconnect()
        await audit.disconnect()
      }
    sidecar = createSidecarServer({
      ...options,
      ...(audit === null ? {} : { audit: { sink: audit.sink } }),
      config: { env: { ...env, CORESDK_MODE: 'embedded' } },
      store: backing.store,
      logger: stdoutLogger,
    })
    stdoutLogger({ level: 'info', msg: 'session store', store: backing.kind })
    if (audit !== null) stdoutLogger({ level: 'info', msg: 'audit trail', sink: audit.kind })
    await sidecar.listen()
  } catch (error) {
    await disconnect()
    const message = error instanceof Error ? error.message : 'the sidecar could not start'
    // A configuration message names the setting and what it accepts; it never echoes a secret.
    stdoutLogger({ level: 'fatal', msg: message, code: (error as { code?: unknown }).code ?? null })
    process.exitCode = 1
    return
  }
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal: the operator wants out now.
      process.exit(1)
    }
    stopping = true
    stdoutLogger({ level: 'info', msg: 'signal', signal })
    sidecar
      .close()
      .then(disconnect)
      .then(
        () => process.exit(0),
        () => process.exit(1),
      )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

void main()
