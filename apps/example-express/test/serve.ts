import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { AdapterServer } from '@coresdk/testing'
import type { Express } from 'express'

/** Serves `app` on 127.0.0.1 (an ephemeral port unless one is given) until `close()`. */
export async function serve(app: Express, port = 0): Promise<AdapterServer> {
  const server = app.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
