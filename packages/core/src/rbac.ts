import { CoreSDKError, problemFor } from './errors.ts'
import type { Claims, HttpProblem } from './types.ts'

/** Which roles a route needs: a list means any one of them; `allOf` needs every one. */
export type RoleRequirement = readonly string[] | { anyOf?: readonly string[]; allOf?: readonly string[] }

/** The outcome of a role check. */
export type RoleDecision = { allowed: true; problem: null } | { allowed: false; problem: HttpProblem }

/** Role checks on the authenticated user, the seed's "RBAC & Roles". */
export interface RbacApi {
  /** The user's roles, read from the configured claim (`rbac.rolesClaim`). */
  rolesOf(user: Claims | null | undefined): string[]
  /**
   * Checks a requirement: 401 without a user, 403 (`forbidden`, `WWW-Authenticate: Bearer error="insufficient_scope"`)
   * when a role is missing. The problem never lists the user's roles.
   * @example
   * const decision = sdk.rbac().check(req.coresdk_user, { anyOf: ['admin', 'support'] })
   * if (!decision.allowed) return reply(decision.problem)
   */
  check(user: Claims | null | undefined, requirement: RoleRequirement): RoleDecision
}

/**
 * Reads roles from a claim given as a dotted path (`roles`, `realm_access.roles`, `scope`): an array of strings, or
 * one space-separated string (as OAuth's `scope`).
 */
export function readRoles(claims: Claims | null | undefined, path: string): string[] {
  let value: unknown = claims
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return []
    value = (value as Record<string, unknown>)[part]
  }
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean)
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  return []
}

/**
 * The requirement an adapter's role helper was given, as roles (`'admin', 'support'`: any of them) or one
 * requirement (`['a', 'b']`, `{ anyOf, allOf }`). Throws `invalid_config` when it names no role, which would let
 * every signed-in user through.
 * @example
 * export const requireRoles = (...args: [RoleRequirement] | string[]) => { const requirement = roleRequirement(args) … }
 */
export function roleRequirement(args: readonly [RoleRequirement] | readonly string[]): RoleRequirement {
  const requirement: RoleRequirement =
    typeof args[0] === 'object' ? (args[0] as RoleRequirement) : (args as readonly string[])
  const named = Array.isArray(requirement)
    ? requirement
    : [
        ...((requirement as { anyOf?: readonly string[] }).anyOf ?? []),
        ...((requirement as { allOf?: readonly string[] }).allOf ?? []),
      ]
  if (named.length === 0 || named.some((role) => typeof role !== 'string' || role === '')) {
    throw new CoreSDKError(
      'invalid_config',
      'CoreSDK: a role requirement needs at least one non-empty role name.',
    )
  }
  return requirement
}

/** Builds the role checker for a roles claim path and a `WWW-Authenticate` realm. */
export function createRbac(rolesClaim: string, realm: string): RbacApi {
  const rolesOf = (user: Claims | null | undefined) => readRoles(user, rolesClaim)
  return {
    rolesOf,
    check(user, requirement) {
      if (!user) return { allowed: false, problem: problemFor('missing_credentials', { realm }) }
      const held = new Set(rolesOf(user))
      const anyOf = Array.isArray(requirement)
        ? requirement
        : ((requirement as { anyOf?: readonly string[] }).anyOf ?? [])
      const allOf = Array.isArray(requirement)
        ? []
        : ((requirement as { allOf?: readonly string[] }).allOf ?? [])
      const ok = (anyOf.length === 0 || anyOf.some((r) => held.has(r))) && allOf.every((r) => held.has(r))
      if (ok) return { allowed: true, problem: null }
      const problem = problemFor('forbidden', { realm })
      problem.headers['www-authenticate'] =
        `Bearer realm="${realm.replace(/["\\]/g, '')}", error="insufficient_scope"`
      return { allowed: false, problem }
    },
  }
}
