import type { MethodAccess } from '../call/access.ts';
import { GrpcError, Status } from '../call/error.ts';
import type { AuthUser } from './types.ts';

/**
 * Ends the call unless `user` may call a method with `access`: UNAUTHENTICATED without a user,
 * PERMISSION_DENIED without the staff flag or permission the method names. The user is active
 * (the auth interceptor refuses inactive users before this).
 */
export function checkAccess(access: MethodAccess, user: AuthUser | null): void {
  if (!access.needsUser) return;
  if (user === null) throw new GrpcError(Status.UNAUTHENTICATED, 'Authentication required');
  if (access.denied === '' || user.isSuperuser) return;
  if (access.staff && user.isStaff) return;
  if (access.permission !== null && user.permissions.has(access.permission)) return;
  throw new GrpcError(Status.PERMISSION_DENIED, access.denied);
}
