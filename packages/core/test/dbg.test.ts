import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { it } from 'vitest'
import { CoreSDKClient } from '../src/index.ts'
import { AUDIENCE, bearer, hsToken, ISSUER, SECRET } from './helpers.ts'
it('dbg', async () => {
  const server = createServer(() => {})
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  const open = new CoreSDKClient({ env: {}, mode: 'sidecar', sidecarAddr: url, failMode: 'open', sidecar: { timeout: 200 }, jwt: { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'], secret: SECRET } })
  console.log(JSON.stringify(await open.authenticate({ authorization: bearer(await hsToken({ sub: 'usr_local' })) })))
  server.closeAllConnections(); server.close()
})
