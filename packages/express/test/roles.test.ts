import { expect, it } from 'vitest'
import { requireRoles } from '../src/index.ts'

// The role checks over HTTP (describeRoleChecks): apps/example-express/test/roles.test.ts.
it('refuses, when the app is built, a role requirement that names no role', () => {
  expect(() => requireRoles()).toThrow(expect.objectContaining({ code: 'invalid_config' }))
  expect(() => requireRoles({ anyOf: [] })).toThrow(expect.objectContaining({ code: 'invalid_config' }))
})
