import { type RoleRequirement, roleRequirement } from '@coresdk/core'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { clientOf, sendProblem } from './request-client.ts'

/**
 * Lets a request through only when `req.coresdk_user` holds one of `roles` (or meets a `{ anyOf, allOf }`
 * requirement); otherwise answers core's 401 (anonymous) or 403 `forbidden` problem. Runs after `coreSdkMiddleware`.
 * @example
 * app.get('/admin', requireRoles('admin'), handler)
 * app.post('/billing', requireRoles({ allOf: ['billing', 'admin'] }), handler)
 */
export function requireRoles(requirement: RoleRequirement): RequestHandler
export function requireRoles(...roles: string[]): RequestHandler
export function requireRoles(...args: [RoleRequirement] | string[]): RequestHandler {
  const requirement = roleRequirement(args)
  return (req: Request, res: Response, next: NextFunction) => {
    const decision = clientOf(req).rbac().check(req.coresdk_user, requirement)
    if (decision.allowed) return next()
    sendProblem(res, decision.problem)
  }
}
