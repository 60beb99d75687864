import { readFileSync } from 'node:fs'
import { Session } from '@coresdk/core'
import {
  type SidecarRoute,
  sessionToWire,
  sidecarPaths,
  sidecarRoutes,
  type WireSession,
} from '@coresdk/core/sidecar-protocol'
import { makeSessionRecord } from '@coresdk/testing'
import { describe, expect, it } from 'vitest'

interface OpenApi {
  paths: Record<string, Record<string, unknown>>
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> }
}

const document = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')) as OpenApi
// The sidecar's own routes, outside the protocol: probes and the description itself.
const OWN = ['GET /healthz', 'GET /readyz', 'GET /openapi.json']
// Every field of the wire session, by name: the compiler refuses a list that misses or invents one.
const WIRE_FIELDS = {
  id: true,
  userId: true,
  tenantId: true,
  origin: true,
  createdAt: true,
  lastSeenAt: true,
  expiresAt: true,
  absoluteExpiresAt: true,
  persistent: true,
  revokedAt: true,
  active: true,
  key: true,
  issuedAt: true,
  claims: true,
  meta: true,
  ip: true,
  browser: true,
  os: true,
  deviceType: true,
} satisfies Record<keyof WireSession, true>

const routes: SidecarRoute[] = Object.values(sidecarRoutes)
const operation = (route: SidecarRoute) => `${route.method} ${route.path}`
const described = Object.entries(document.paths).flatMap(([path, operations]) =>
  Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
)

describe('openapi.json against the sidecar protocol module', () => {
  it('describes every route of the protocol with its method', () => {
    for (const route of routes) expect(described, operation(route)).toContain(operation(route))
  })

  it('describes nothing the protocol does not name, the probes and the description aside', () => {
    expect(described.filter((op) => !OWN.includes(op)).sort()).toEqual(routes.map(operation).sort())
    for (const own of OWN) expect(described).toContain(own)
  })

  it('has every path the clients build among the protocol routes, segments percent-encoded', () => {
    const templates = new Set(routes.map((route) => route.path))
    for (const [name, path] of Object.entries(sidecarPaths)) {
      if (typeof path === 'string') {
        expect(templates, name).toContain(path)
        continue
      }
      // A value that needs encoding shows that the segment is filled in, encoded, and nothing else changes.
      const built = path('a/b c')
      const template = [...templates].find(
        (t) => t.replace(/\{\w+\}/, 'a%2Fb%20c') === built && t.includes('{'),
      )
      expect(template, `${name} builds ${built}`).toBeDefined()
    }
  })

  it('gives the Session schema exactly the fields of WireSession, all required, as sessionToWire writes them', () => {
    const schema = document.components.schemas.Session!
    const fields = Object.keys(WIRE_FIELDS).sort()
    expect(Object.keys(schema.properties ?? {}).sort()).toEqual(fields)
    expect([...(schema.required ?? [])].sort()).toEqual(fields)
    expect(Object.keys(sessionToWire(new Session(makeSessionRecord()))).sort()).toEqual(fields)
  })
})
