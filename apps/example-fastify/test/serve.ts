import type { AdapterServer } from '@coresdk/testing'
import type { FastifyInstance } from 'fastify'

/** Serves `app` on 127.0.0.1 (an ephemeral port unless one is given) until `close()`. */
export async function serve(app: FastifyInstance, port = 0): Promise<AdapterServer> {
  await app.listen({ port, host: '127.0.0.1' })
  return {
    url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`,
    close: () => app.close(),
  }
}
