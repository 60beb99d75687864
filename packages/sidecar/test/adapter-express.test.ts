import { CoreSDKClient } from '@coresdk/core'
import { createApp } from '@coresdk/example-express/app'
import { serve } from '@coresdk/example-express/serve'
import { createSidecarServer } from '@coresdk/sidecar'
import { describeAdapter } from '@coresdk/testing/vitest'
import { SECRET } from './helpers.ts'

// The suite's default clients are embedded ones, the fail-mode ones bound to a store that never answers. Here the
// sidecar runs such a client, in process, over real HTTP on an ephemeral port, and the Express app gets a client in
// sidecar mode pointing at it: every request crosses the sidecar, and the fail-mode cases show the sidecar's own
// store going silent (answered by the sidecar per failMode, passed through by the client). The same suite against a
// sidecar process is in adapter-express-process.test.ts.
describeAdapter('express, SDK in sidecar mode, sidecar in process', async (engine) => {
  const sidecar = createSidecarServer({ sdk: engine, port: 0, logger: false, secret: SECRET })
  const sidecarUrl = await sidecar.listen()
  const sdk = new CoreSDKClient({
    env: {},
    mode: 'sidecar',
    sidecarAddr: sidecarUrl,
    sidecarSecret: SECRET,
    tenantId: engine.config.tenantId,
    serviceName: engine.config.serviceName,
    // Which proxies may name the client is the service's setting, here the suite's.
    trustProxy: engine.config.trustProxy,
    // The suite revokes through its own client and expects the next request to see it: no cache here.
    sidecar: { cacheTtl: 0, timeout: 5000 },
  })
  const app = await serve(createApp(sdk, { degraded: true }))
  return {
    url: app.url,
    close: async () => {
      await app.close()
      await sdk.close()
      await sidecar.close()
    },
  }
})
