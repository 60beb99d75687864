import type { RevocationEvent } from './types.ts'

/**
 * Reads a revocation message as a store's fan-out channel carries it (Redis pub/sub, PostgreSQL NOTIFY): the JSON of
 * a {@link RevocationEvent}. Returns null for anything that is not one, so that a stray or damaged message is
 * dropped, never applied half-read.
 * @example
 * const event = parseRevocationEvent(message)
 * if (event !== null) for (const listener of listeners) listener(event)
 */
export function parseRevocationEvent(text: string): RevocationEvent | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const event = value as Record<string, unknown>
  if (typeof event.tenantId !== 'string' || typeof event.userId !== 'string' || typeof event.at !== 'number')
    return null
  if (event.kind === 'user')
    return { kind: 'user', tenantId: event.tenantId, userId: event.userId, at: event.at }
  if (event.kind === 'session' && typeof event.sessionId === 'string') {
    return {
      kind: 'session',
      tenantId: event.tenantId,
      sessionId: event.sessionId,
      key: typeof event.key === 'string' ? event.key : null,
      userId: event.userId,
      at: event.at,
    }
  }
  return null
}
