import { describe, expect, it } from 'vitest'
import { createRbac, readRoles, roleRequirement } from './rbac.ts'

const user = {
  sub: 'u1',
  roles: ['editor', 'viewer'],
  scope: 'read:a write:b',
  realm_access: { roles: ['admin'] },
}

describe('roles', () => {
  it('reads arrays, space-separated strings and dotted paths', () => {
    expect(readRoles(user, 'roles')).toEqual(['editor', 'viewer'])
    expect(readRoles(user, 'scope')).toEqual(['read:a', 'write:b'])
    expect(readRoles(user, 'realm_access.roles')).toEqual(['admin'])
    expect(readRoles(user, 'missing.path')).toEqual([])
  })

  it('any-of and all-of requirements: 403 insufficient_scope without listing roles; 401 without a user', () => {
    const rbac = createRbac('roles', 'my-api')
    expect(rbac.check(user, ['admin', 'editor']).allowed).toBe(true)
    expect(rbac.check(user, { allOf: ['editor', 'viewer'] }).allowed).toBe(true)
    const refused = rbac.check(user, { allOf: ['editor', 'admin'] })
    expect(refused.allowed).toBe(false)
    expect(refused.problem?.status).toBe(403)
    expect(refused.problem?.headers['www-authenticate']).toBe(
      'Bearer realm="my-api", error="insufficient_scope"',
    )
    expect(JSON.stringify(refused.problem?.body)).not.toMatch(/editor|viewer|admin/)
    expect(rbac.check(null, ['admin']).problem?.status).toBe(401)
  })

  it('reads an adapter helper’s arguments as a requirement, and refuses one naming no role', () => {
    expect(roleRequirement(['admin', 'support'])).toEqual(['admin', 'support'])
    expect(roleRequirement([['admin']])).toEqual(['admin'])
    expect(roleRequirement([{ allOf: ['a', 'b'] }])).toEqual({ allOf: ['a', 'b'] })
    for (const empty of [[], [[]], [{}], [{ anyOf: [], allOf: [] }], ['']] as const) {
      expect(() => roleRequirement(empty as readonly string[])).toThrow(
        expect.objectContaining({ code: 'invalid_config' }),
      )
    }
  })
})
