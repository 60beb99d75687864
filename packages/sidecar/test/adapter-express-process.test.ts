import { CoreSDKClient } from '@coresdk/core'
import { createApp } from '@coresdk/example-express/app'
import { serve } from '@coresdk/example-express/serve'
import { describeAdapter, type SuiteClients } from '@coresdk/testing/vitest'
import { SECRET, startSidecar } from './helpers.ts'

/**
 * The suite's clients in sidecar mode, each against its own `coresdk-sidecar` process (sessions in its memory),
 * configured only by environment. The suite's revocations and logins go through the client, so over HTTP to the
 * process. "Silent" freezes the process (SIGSTOP): connections are still accepted, nothing is answered, and the
 * client's deadline and failMode must answer instead.
 */
const sidecarProcessClients: SuiteClients = {
  silentBackend: 'sidecar process',
  async create(request) {
    const sidecar = await startSidecar({
      CORESDK_JWT_ISSUER: request.jwt.issuer,
      CORESDK_JWT_AUDIENCE: request.jwt.audience,
      CORESDK_JWT_ALGORITHMS: request.jwt.algorithms.join(','),
      CORESDK_JWKS_URL: request.jwt.jwksUri,
      CORESDK_TENANT_ID: request.tenantId,
      CORESDK_SIDECAR_SECRET: SECRET,
    })
    const sdk = new CoreSDKClient({
      env: {},
      mode: 'sidecar',
      sidecarAddr: sidecar.url,
      sidecarSecret: SECRET,
      tenantId: request.tenantId,
      serviceName: request.serviceName,
      // The sidecar's issuer settings, here too: failMode 'open' verifies a token locally while the sidecar is away.
      jwt: request.jwt,
      ...(request.failMode === undefined ? {} : { failMode: request.failMode }),
      // Which proxies may name the client is the service's setting: it resolves the address the sidecar records.
      ...(request.trustProxy === undefined ? {} : { trustProxy: request.trustProxy }),
      // The fail-mode cases set the deadline; the others get room for a loaded two-core machine.
      sidecar: { timeout: request.timeout ?? 5000 },
    })
    return {
      sdk,
      setSilent: (silent) => sidecar.signal(silent ? 'SIGSTOP' : 'SIGCONT'),
      unavailableCode: 'sidecar_unavailable',
      close: async () => {
        await sdk.close()
        // stop() thaws a frozen process first; the process must then still stop cleanly.
        const exit = await sidecar.stop()
        if (exit.code !== 0)
          throw new Error(`the sidecar exited with ${JSON.stringify(exit)}:\n${sidecar.output.join('\n')}`)
      },
    }
  },
}

describeAdapter(
  'express, SDK in sidecar mode against a sidecar process',
  async (sdk) => serve(createApp(sdk, { degraded: true })),
  {
    clients: sidecarProcessClients,
  },
)
