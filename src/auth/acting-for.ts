import { GrpcError, Status } from '../call/error.ts';
import type { AuthUser } from './types.ts';

/**
 * The permission that lets a user manage other users' API keys (create, list, revoke), within
 * the limit below. Superusers need no grant. The permission row is created by the migration
 * that introduced it, so `cfg createuser --perm cfg.manage_api_keys` can grant it.
 */
export const MANAGE_API_KEYS = 'cfg.manage_api_keys';

/** The rights of a user that an actor must hold too before acting for that user. */
export type Rights = Pick<AuthUser, 'id' | 'username' | 'isActive' | 'isStaff' | 'isSuperuser' | 'permissions'>;

/**
 * Why `actor` may not act for `target` (create, list or revoke the target's API keys), or null
 * when it may. One rule, for every route and function that acts on another user's keys:
 *
 * - a user always acts for themself;
 * - otherwise the actor must be an active superuser, or hold MANAGE_API_KEYS;
 * - and never for a user with more rights: a superuser target needs a superuser actor, a staff
 *   target a staff actor, and every permission of the target must be the actor's too (a key acts
 *   with its owner's full rights, so making one for a more privileged user would hand the actor
 *   those rights).
 */
export function actingForDenied(actor: Rights, target: Rights): string | null {
  if (actor.id === target.id) return null;
  if (!actor.isActive) return `User ${actor.username} is inactive.`;
  if (actor.isSuperuser) return null;
  if (!actor.permissions.has(MANAGE_API_KEYS))
    return `Acting for another user (${target.username}) needs a superuser or the ${MANAGE_API_KEYS} permission; ${actor.username} has neither.`;
  if (target.isSuperuser) return `${target.username} is a superuser: only a superuser may act for them.`;
  if (target.isStaff && !actor.isStaff)
    return `${target.username} is staff and ${actor.username} is not: acting for them would raise ${actor.username}'s rights.`;
  const missing = [...target.permissions].filter((p) => !actor.permissions.has(p));
  if (missing.length > 0)
    return `${target.username} holds ${missing.join(', ')}, which ${actor.username} does not: acting for them would raise ${actor.username}'s rights.`;
  return null;
}

/** Throws PERMISSION_DENIED unless `actor` may act for `target` (see actingForDenied). */
export function assertMayActFor(actor: Rights, target: Rights): void {
  const why = actingForDenied(actor, target);
  if (why !== null) throw new GrpcError(Status.PERMISSION_DENIED, why);
}
