import { createHash } from 'node:crypto'

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/**
 * How tenant-scoped strings become index keys: SHA-256 of the JSON array `[tenantId, value]`. JSON.stringify escapes
 * lone surrogates and NUL, so the hashed text is well-formed UTF-8 and the encoding is injective: any string of any
 * length maps to 32 bytes, with no two (tenant, value) pairs sharing one short of a SHA-256 collision.
 */
export class Lookup {
  readonly #salt: bigint

  /** @param tag the schema and prefix: two stores in one database never share an advisory lock. */
  constructor(tag: string) {
    this.#salt = sha256(`coresdk-lock:${tag}`).readBigInt64BE(0)
  }

  /** The index key of a (tenant, session id), (tenant, user id) or (tenant, credential key). */
  hash(tenantId: string, value: string): Buffer {
    return sha256(JSON.stringify([tenantId, value]))
  }

  /** The transaction-level advisory lock of one user (a signed 64-bit integer, as text). */
  userLock(userHash: Buffer): string {
    return BigInt.asIntN(64, userHash.readBigInt64BE(0) ^ this.#salt).toString()
  }
}
