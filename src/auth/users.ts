import type { Db } from '../db/client.ts';
import type { AuthUser } from './types.ts';

/** One query: the user with its direct and group permissions, as "app.codename". */
export async function loadUser(db: Db, id: number): Promise<AuthUser | null> {
  const perm = { select: { permission: { select: { app: true, codename: true } } } } as const;
  const row = await db.user.findUnique({
    where: { id },
    select: {
      id: true,
      username: true,
      email: true,
      isActive: true,
      isStaff: true,
      isSuperuser: true,
      permissions: perm,
      groups: { select: { group: { select: { permissions: perm } } } },
    },
  });
  if (!row) return null;
  const permissions = new Set<string>();
  for (const p of row.permissions) permissions.add(`${p.permission.app}.${p.permission.codename}`);
  for (const g of row.groups) for (const p of g.group.permissions) permissions.add(`${p.permission.app}.${p.permission.codename}`);
  const { permissions: _p, groups: _g, ...fields } = row;
  return Object.freeze({ ...fields, permissions });
}
