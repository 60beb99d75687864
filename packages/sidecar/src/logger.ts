/**
 * Receives one structured entry per request (`method`, `route`, `status`, `durationMs`, `tenant`) and per lifecycle
 * event. Entries never hold a token, a cookie, a secret, a claim value or a path parameter.
 */
export type SidecarLogger = (entry: Record<string, unknown>) => void

/** Writes each entry as one JSON line with a `time`: errors to stderr, the rest to stdout. */
export const stdoutLogger: SidecarLogger = (entry) => {
  const line = `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`
  if (entry.level === 'error' || entry.level === 'fatal') process.stderr.write(line)
  else process.stdout.write(line)
}
