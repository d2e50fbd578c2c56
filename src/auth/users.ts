import type { Db } from '../db/client.ts';
import type { AuthUser } from './types.ts';

const perm = { select: { permission: { select: { app: true, codename: true } } } } as const;
const select = {
  id: true,
  username: true,
  email: true,
  isActive: true,
  isStaff: true,
  isSuperuser: true,
  permissions: perm,
  groups: { select: { group: { select: { permissions: perm } } } },
} as const;

type PermRow = { permission: { app: string; codename: string } };
type Row = Omit<AuthUser, 'permissions'> & { permissions: PermRow[]; groups: Array<{ group: { permissions: PermRow[] } }> };

function toUser(row: Row): AuthUser {
  const permissions = new Set<string>();
  for (const p of row.permissions) permissions.add(`${p.permission.app}.${p.permission.codename}`);
  for (const g of row.groups) for (const p of g.group.permissions) permissions.add(`${p.permission.app}.${p.permission.codename}`);
  const { permissions: _p, groups: _g, ...fields } = row;
  return Object.freeze({ ...fields, permissions });
}

/** One query: the user with its direct and group permissions, as "app.codename". */
export async function loadUser(db: Db, id: number): Promise<AuthUser | null> {
  const row = await db.user.findUnique({ where: { id }, select });
  return row ? toUser(row) : null;
}

/** The same by username. */
export async function loadUserByName(db: Db, username: string): Promise<AuthUser | null> {
  const row = await db.user.findUnique({ where: { username }, select });
  return row ? toUser(row) : null;
}

/** Several users in one query, by id (missing ids are absent from the map). */
export async function loadUsers(db: Db, ids: readonly number[]): Promise<Map<number, AuthUser>> {
  const rows = ids.length === 0 ? [] : await db.user.findMany({ where: { id: { in: [...new Set(ids)] } }, select });
  return new Map(rows.map((r) => [r.id, toUser(r)]));
}
