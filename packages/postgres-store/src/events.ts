import type { RevocationEvent } from '@coresdk/core'

/** Reads a revocation notification's payload; null for anything that is not one. */
export function parseEvent(text: string): RevocationEvent | null {
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
