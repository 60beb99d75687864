import type { AddressInfo } from 'node:net'
import type { AdapterServer } from '@coresdk/testing'
import { serve as serveNode } from '@hono/node-server'

/** Serves `app` with Node's HTTP server on 127.0.0.1 (an ephemeral port unless one is given) until `close()`. */
export async function serve(
  app: Pick<Parameters<typeof serveNode>[0], 'fetch'>,
  port = 0,
): Promise<AdapterServer> {
  const server = await new Promise<ReturnType<typeof serveNode>>((resolve) => {
    const s = serveNode({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
