import { request as httpRequest } from 'node:http'

/** A running app under test: its base URL (`http://127.0.0.1:<port>`) and how to stop it. */
export interface AdapterServer {
  url: string
  close(): Promise<void>
}

/** One HTTP answer as the suite saw it. */
export interface RecordedResponse {
  status: number
  headers: Record<string, string>
  body: string
  /** Milliseconds from sending the request to the end of the body. */
  elapsed: number
}

/** Sends one HTTP request with the path exactly as given (fetch would normalise it) and reads the whole answer. */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string | string[]> = {},
): Promise<RecordedResponse> {
  const url = new URL(base)
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const flat: Record<string, string> = {}
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) flat[name] = Array.isArray(value) ? value.join('\n') : value
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: flat,
            body: Buffer.concat(chunks).toString('utf8'),
            elapsed: performance.now() - started,
          })
        })
      },
    )
    req.on('error', reject)
    req.end()
  })
}
