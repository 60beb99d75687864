import type { JWK } from 'jose'

/** What every bench child needs to accept the bench's tokens, passed in `BENCH_FIXTURE` as JSON. */
export interface Fixture {
  issuer: string
  audience: string
  /** The RS256 public key as a JWK (with `kid`). */
  publicJwk: JWK
  /** The same key as an SPKI PEM. */
  publicPem: string
  redisUrl: string
  /** The PostgreSQL database the PostgreSQL store runs on. */
  databaseUrl: string
  /** A prefix that keeps this run's Redis keys (and its PostgreSQL schema, `bench_<runId>`) apart from anything else. */
  runId: string
  /**
   * The Redis and PostgreSQL stores' local cache `maxStaleness`, in ms, where the store's default is not what is being
   * measured (the callgrind section: see `CALLGRIND_STALENESS`).
   */
  cacheStaleness?: number
}

/** The fixture the parent put in the environment. */
export function readFixture(): Fixture {
  const raw = process.env.BENCH_FIXTURE
  if (!raw) throw new Error('BENCH_FIXTURE is not set: this script runs as a child of the bench')
  return JSON.parse(raw) as Fixture
}

/** The `/api/me` body of an authenticated request: the same shape for every variant. */
export interface MeBody {
  sub: string
  email: string | null
  session_id: string | null
}

/**
 * What the bare apps answer: the same shape and size as an authenticated answer (a session id is `sess_` and 26
 * characters), with nothing checked, so that no variant writes fewer bytes than another.
 */
export const BARE_BODY: MeBody = {
  sub: 'user-1',
  email: 'user-1@example.com',
  session_id: 'sess_00000000000000000000000000',
}
