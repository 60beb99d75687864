import {
  createHmac,
  createPublicKey,
  type KeyObject,
  verify as nodeVerify,
  timingSafeEqual,
} from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { CoreSDKClient } from '@coresdk/core'
import { type TestAlgorithm, TestIssuer } from '@coresdk/testing'
import { base64url, importJWK, type JWTVerifyOptions, jwtVerify } from 'jose'
import { serveParent } from '../children.ts'
import { profilerHandlers } from '../profile.ts'
import { VERIFY_ALGORITHMS } from './verify-bench.ts'

type Step = () => unknown

interface Subject {
  /** One verification; the async ones return a promise. */
  step: Step
  async: boolean
}

const subjects = new Map<string, Subject>()
const warmed = new Set<string>()
const clients: CoreSDKClient[] = []

async function setUp(alg: TestAlgorithm): Promise<void> {
  const issuer = await TestIssuer.create({ alg, issuer: 'https://issuer.bench/', audience: 'bench-api' })
  // An ordinary access token: no sid or jti, so CoreSDK derives the session key from the token's hash.
  const token = await issuer.mint({ email: 'user-1@example.com', scope: 'read:me' }, { expiresIn: 3600 })
  const jwt = issuer.jwtOptions()
  const cold = new CoreSDKClient({ tenantId: 'bench', jwt: { ...jwt, cacheSize: 0 }, env: {} })
  const warm = new CoreSDKClient({ tenantId: 'bench', jwt, env: {} })
  clients.push(cold, warm)

  // jose gets the key already imported, as CoreSDK keeps it, and the options CoreSDK passes it.
  const joseKey = issuer.keys.secret
    ? await crypto.subtle.importKey(
        'raw',
        new Uint8Array(issuer.keys.secret),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['verify'],
      )
    : ((await importJWK(issuer.keys.publicJwk!, alg)) as CryptoKey)
  const options: JWTVerifyOptions = {
    algorithms: [alg],
    issuer: issuer.issuer,
    audience: issuer.audience,
    clockTolerance: 5,
    requiredClaims: ['exp'],
  }

  // The floor: Node's own primitive on the same signing input and signature, with nothing parsed per call.
  const dot = token.lastIndexOf('.')
  const data = Buffer.from(token.slice(0, dot))
  const signature = Buffer.from(base64url.decode(token.slice(dot + 1)))
  let floor: Step
  if (issuer.keys.secret) {
    const secret = issuer.keys.secret
    floor = () => timingSafeEqual(createHmac('sha256', secret).update(data).digest(), signature)
  } else {
    const key: KeyObject = createPublicKey({ key: issuer.keys.publicPem!, format: 'pem' })
    if (alg === 'ES256')
      floor = () => nodeVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
    else if (alg === 'EdDSA') floor = () => nodeVerify(null, data, key, signature)
    else floor = () => nodeVerify('sha256', data, key, signature)
  }

  const checks = [
    (await cold.auth().authorize({ token })).allowed,
    (await warm.auth().authorize({ token })).allowed,
    (await jwtVerify(token, joseKey, options)).payload.sub === issuer.subject,
    floor() === true,
  ]
  if (checks.some((ok) => !ok))
    throw new Error(`${alg}: a competitor refused the bench token (${checks.join(',')})`)

  subjects.set(`${alg}/coresdk-cold`, { step: () => cold.auth().authorize({ token }), async: true })
  subjects.set(`${alg}/coresdk-warm`, { step: () => warm.auth().authorize({ token }), async: true })
  subjects.set(`${alg}/jose`, { step: () => jwtVerify(token, joseKey, options), async: true })
  subjects.set(`${alg}/node`, { step: floor, async: false })
}

const BATCH = 64

/** Runs `step` back to back for `ms` milliseconds; returns how many ran and how long it took. */
async function loop(subject: Subject, ms: number): Promise<{ ops: number; elapsedNs: number }> {
  const { step } = subject
  let ops = 0
  const start = performance.now()
  const end = start + ms
  let now = start
  if (subject.async) {
    while (now < end) {
      for (let i = 0; i < BATCH; i++) await step()
      ops += BATCH
      now = performance.now()
    }
  } else {
    while (now < end) {
      for (let i = 0; i < BATCH; i++) step()
      ops += BATCH
      now = performance.now()
    }
  }
  return { ops, elapsedNs: (now - start) * 1e6 }
}

serveParent(
  {
    ...profilerHandlers(),
    async setup() {
      for (const alg of VERIFY_ALGORITHMS) await setUp(alg)
      return {}
    },
    async measure(message) {
      const name = `${String(message.alg)}/${String(message.competitor)}`
      const subject = subjects.get(name)
      if (!subject) throw new Error(`no subject ${name}`)
      if (!warmed.has(name)) {
        await loop(subject, Number(message.warmupMs))
        warmed.add(name)
      }
      const { ops, elapsedNs } = await loop(subject, Number(message.durationMs))
      return { opsPerSec: (ops * 1e9) / elapsedNs, nsPerOp: elapsedNs / ops, ops }
    },
  },
  {},
  async () => {
    await Promise.all(clients.map((c) => c.close()))
  },
)
