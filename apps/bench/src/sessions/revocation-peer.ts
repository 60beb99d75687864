import { performance } from 'node:perf_hooks'
import { CoreSDKClient, type RevocationEvent } from '@coresdk/core'
import { serveParent } from '../children.ts'
import { readFixture } from '../fixture.ts'
import { openStore, type StoreKind } from '../stores.ts'

// One instance of a service on the shared store (Redis or PostgreSQL): A revokes, B watches. Times are wall-clock
// milliseconds (performance.timeOrigin + performance.now()), comparable between processes on one machine.
const fixture = readFixture()
const kind = process.argv[2] as StoreKind
const opened = await openStore(kind, fixture)
if (!opened.ok) {
  process.send?.({ type: 'ready', unavailable: opened.reason })
  process.exit(0)
}
const store = opened.store!
const sdk = new CoreSDKClient({
  tenantId: `bench-${fixture.runId}-revocation-${kind}`,
  jwt: {
    issuer: fixture.issuer,
    audience: fixture.audience,
    algorithms: ['RS256'],
    publicKeys: [fixture.publicJwk as never],
  },
  // Sessions sealed into a store that other processes read need one shared key.
  sessions: { store, encryptionKey: new Uint8Array(32).fill(7) },
  env: {},
})
const now = (): number => performance.timeOrigin + performance.now()

const watching = new Map<string, Watch>()

function report(watch: Watch): void {
  if (watch.eventAt === null || watch.refusedAt === null) return
  watching.delete(watch.id)
  process.send?.({ type: 'seen', sessionId: watch.id, eventAt: watch.eventAt, refusedAt: watch.refusedAt })
}

interface Watch {
  eventAt: number | null
  refusedAt: number | null
  id: string
  check(): void
}

store.onRevocation?.((event: RevocationEvent) => {
  if (event.kind !== 'session') return
  const watch = watching.get(event.sessionId)
  if (!watch || watch.eventAt !== null) return
  watch.eventAt = now()
  report(watch)
  // CoreSDK's own listener ran first (it subscribed when the client was built): the next request must be refused.
  watch.check()
})

serveParent(
  {
    async create(message) {
      const session = await sdk.sessions().create({ id_token: String(message.idToken) })
      return { sessionId: session.id }
    },
    async revoke(message) {
      const at = now()
      const revoked = await sdk.sessions().revoke(String(message.sessionId))
      return { at, revoked }
    },
    async watch(message) {
      const id = String(message.sessionId)
      const authorization = `Bearer ${String(message.token)}`
      const first = await sdk.authenticate({ authorization })
      if (!first.ok || first.session?.id !== id)
        throw new Error('the watched token did not authenticate to its session')
      const check = (): void => {
        if (!watching.has(id)) return
        sdk.authenticate({ authorization }).then(
          (result) => {
            if (result.ok || watch.refusedAt !== null) return
            watch.refusedAt = now()
            report(watch)
          },
          () => {},
        )
      }
      const watch: Watch = { id, eventAt: null, refusedAt: null, check }
      watching.set(id, watch)
      // Besides the check on the message, a request every millisecond, as a service under light traffic would see:
      // a busy loop here would take a core from A and the store on a small machine and slow what it measures.
      const poll = (): void => {
        if (!watching.has(id) || watch.refusedAt !== null) return
        check()
        setTimeout(poll, 1)
      }
      setTimeout(poll, 1)
      return {}
    },
    unwatch(message) {
      watching.delete(String(message.sessionId))
      return {}
    },
  },
  {},
  async () => {
    await sdk.close()
    await opened.close()
  },
)
