import { type RoleRequirement, roleRequirement } from '@coresdk/core'
import type { MiddlewareHandler } from 'hono'
import type { CoreSdkVariables } from './index.ts'
import { clientOf, sendProblem } from './request-client.ts'

type RolesMiddleware = MiddlewareHandler<{ Variables: CoreSdkVariables }>

/**
 * Lets a request through only when `coresdk_user` holds one of `roles` (or meets a `{ anyOf, allOf }`
 * requirement); otherwise answers core's 401 (anonymous) or 403 `forbidden` problem. Runs after
 * `coreSdkMiddleware`; a requirement naming no role throws at once.
 * @example
 * app.get('/admin', requireRoles('admin'), (c) => c.json({ ok: true }))
 * app.post('/billing', requireRoles({ allOf: ['billing', 'admin'] }), handler)
 */
export function requireRoles(requirement: RoleRequirement): RolesMiddleware
export function requireRoles(...roles: string[]): RolesMiddleware
export function requireRoles(...args: [RoleRequirement] | string[]): RolesMiddleware {
  const requirement = roleRequirement(args)
  return async (c, next) => {
    const decision = clientOf(c, 'requireRoles()').rbac().check(c.get('coresdk_user'), requirement)
    if (decision.allowed) return next()
    return sendProblem(c, decision.problem)
  }
}
