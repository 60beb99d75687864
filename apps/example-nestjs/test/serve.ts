import type { AdapterServer } from '@coresdk/testing'
import type { INestApplication } from '@nestjs/common'

/** Serves `app` on 127.0.0.1 (an ephemeral port unless one is given) until `close()`. */
export async function serve(app: INestApplication, port = 0): Promise<AdapterServer> {
  await app.listen(port, '127.0.0.1')
  const { port: bound } = app.getHttpServer().address() as { port: number }
  return { url: `http://127.0.0.1:${bound}`, close: () => app.close() }
}
