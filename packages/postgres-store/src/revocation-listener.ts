import type { ClientBase, Notification } from 'pg'
import { destroyConnection } from './connection.ts'

/** What the listener tells its store. */
export interface ListenerEvents {
  /** The channel is listened to: notifications from now on arrive. */
  up(): void
  /** The connection is gone or unresponsive: notifications may be missed until `up` again. */
  down(): void
  /** One notification payload. */
  payload(text: string): void
}

/** Timing of the listener connection. */
export interface ListenerTiming {
  /** How long connecting and each heartbeat may take, in ms. */
  timeout: number
  /** How often the connection is checked with a round trip, in ms. */
  heartbeat: number
}

/**
 * One dedicated connection that LISTENs on the revocation channel, reconnecting with capped backoff (50 ms, 100 ms, …
 * 2 s) for as long as it runs. A socket that closes is noticed at once; one that silently stops answering (a black
 * hole) by the heartbeat, within `heartbeat + timeout`.
 */
export class RevocationListener {
  readonly #connect: () => ClientBase
  readonly #channel: string
  readonly #events: ListenerEvents
  readonly #timing: ListenerTiming
  #client: ClientBase | null = null
  #attempt = 0
  #retry: ReturnType<typeof setTimeout> | undefined
  #beat: ReturnType<typeof setInterval> | undefined
  #stopped = false

  constructor(connect: () => ClientBase, channel: string, events: ListenerEvents, timing: ListenerTiming) {
    this.#connect = connect
    this.#channel = channel
    this.#events = events
    this.#timing = timing
  }

  start(): void {
    void this.#open()
  }

  async #open(): Promise<void> {
    if (this.#stopped) return
    let client: ClientBase
    try {
      client = this.#connect()
    } catch {
      this.#schedule()
      return
    }
    this.#client = client
    client.on('error', () => this.#lost(client))
    client.on('end', () => this.#lost(client))
    client.on('notification', (message: Notification) => {
      if (message.channel === this.#channel && message.payload !== undefined)
        this.#events.payload(message.payload)
    })
    try {
      await withTimeout(client.connect(), this.#timing.timeout)
      await withTimeout(client.query(`LISTEN "${this.#channel}"`), this.#timing.timeout)
    } catch {
      this.#lost(client)
      return
    }
    if (this.#client !== client) return
    this.#attempt = 0
    this.#events.up()
    this.#beat = setInterval(() => {
      withTimeout(client.query('SELECT 1'), this.#timing.timeout).catch(() => this.#lost(client))
    }, this.#timing.heartbeat)
    this.#beat.unref?.()
  }

  #lost(client: ClientBase): void {
    if (this.#client !== client) return
    this.#client = null
    clearInterval(this.#beat)
    this.#events.down()
    destroyConnection(client)
    this.#schedule()
  }

  #schedule(): void {
    if (this.#stopped) return
    this.#attempt++
    this.#retry = setTimeout(() => void this.#open(), Math.min(this.#attempt * 50, 2000))
    this.#retry.unref?.()
  }

  /** Stops listening and closes the connection. */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#retry)
    clearInterval(this.#beat)
    const client = this.#client
    this.#client = null
    if (client !== null) destroyConnection(client)
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout expired')), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
