import type { ClientBase } from 'pg'

/**
 * Closes a connection now. `end()` says goodbye and waits for the server to close its side, which over a dead or
 * black-holed socket never happens: the socket is destroyed as well, and a late error is swallowed.
 */
export function destroyConnection(client: ClientBase): void {
  client.on('error', () => {})
  ;(client as unknown as { end(): Promise<void> }).end().catch(() => {})
  ;(client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
}
