/**
 * Who may call a method, as a service class declares it in `static access`:
 *
 * - `'public'`: anyone (a token that is sent is still verified);
 * - `'user'`: a signed-in, active user;
 * - `'staff'`: a staff user (a superuser counts as staff);
 * - `{ permission: 'app.codename' }`: a user holding that permission, directly or through a group
 *   (a superuser holds every permission); with `orStaff: true`, staff pass too.
 */
export type Access = 'public' | 'user' | 'staff' | { readonly permission: string; readonly orStaff?: boolean };

/** `static access` of a class serving definition D: one entry per method, checked by the compiler. */
export type AccessOf<D> = { readonly [K in keyof D & string]: Access };

/** What the auth interceptor checks for one method, resolved once at registration. */
export interface MethodAccess {
  /** As /api/services and the dashboard show it: "public", "user", "staff", "crypto.delete_coin", "staff or crypto.add_coin". */
  readonly label: string;
  /** Anonymous callers are refused (UNAUTHENTICATED): everything but "public". */
  readonly needsUser: boolean;
  /** Staff pass the permission check (superusers always pass). */
  readonly staff: boolean;
  /** The permission that passes, or null. With neither staff nor a permission, any user passes. */
  readonly permission: string | null;
  /** The PERMISSION_DENIED message. */
  readonly denied: string;
}

const PERMISSION = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/i;

export const PUBLIC: MethodAccess = Object.freeze({ label: 'public', needsUser: false, staff: false, permission: null, denied: '' });
/** A method whose class declares nothing for it, on a server with requireAuth off: anyone reaches it (its body may check the caller). */
export const UNDECLARED: MethodAccess = Object.freeze({
  label: 'undeclared',
  needsUser: false,
  staff: false,
  permission: null,
  denied: '',
});
export const SIGNED_IN: MethodAccess = Object.freeze({ label: 'user', needsUser: true, staff: false, permission: null, denied: '' });
const STAFF: MethodAccess = Object.freeze({
  label: 'staff',
  needsUser: true,
  staff: true,
  permission: null,
  denied: 'Staff access required',
});

/** The resolved form of a declaration; a string naming what is wrong when it is not one. */
export function resolveAccess(access: unknown): MethodAccess | string {
  if (access === 'public') return PUBLIC;
  if (access === 'user') return SIGNED_IN;
  if (access === 'staff') return STAFF;
  if (typeof access === 'object' && access !== null && !Array.isArray(access)) {
    const { permission, orStaff, ...rest } = access as { permission?: unknown; orStaff?: unknown };
    const extra = Object.keys(rest);
    if (extra.length > 0) return `has an unknown field "${extra[0]}" (an access object takes permission and orStaff)`;
    if (typeof permission !== 'string' || !PERMISSION.test(permission))
      return `names permission ${JSON.stringify(permission)}; a permission is "app.codename"`;
    if (orStaff !== undefined && typeof orStaff !== 'boolean') return 'has a non-boolean orStaff';
    return orStaff
      ? Object.freeze({
          label: `staff or ${permission}`,
          needsUser: true,
          staff: true,
          permission,
          denied: `Staff or permission ${permission} required`,
        })
      : Object.freeze({ label: permission, needsUser: true, staff: false, permission, denied: `Permission ${permission} required` });
  }
  return `is ${JSON.stringify(access)}; it must be "public", "user", "staff", { permission: "app.codename" } or { permission, orStaff: true }`;
}
