import type { Db } from '../db/client.ts';
import { CfgError } from '../errors.ts';
import { invalidateUser } from './cache.ts';

export interface UserSpec {
  username: string;
  email?: string;
  staff?: boolean;
  superuser?: boolean;
  inactive?: boolean;
  /** "app.codename" */
  perm?: string[];
  group?: string[];
}

/** Creates or updates a user; permissions and groups are created as needed and added. */
export async function upsertUser(db: Db, spec: UserSpec): Promise<{ created: boolean; user: { id: number; username: string } }> {
  if (!/^[\w.@+-]{1,150}$/.test(spec.username)) throw new CfgError('E_USAGE', `Username "${spec.username}" is not valid.`, 'Use up to 150 letters, digits and @.+-_ characters.');
  const perms = (spec.perm ?? []).map((p) => {
    const m = /^([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)$/i.exec(p);
    if (!m) throw new CfgError('E_USAGE', `Permission "${p}" must be "app.codename".`, 'e.g. --perm crypto.delete_coin');
    return { app: m[1]!, codename: m[2]! };
  });
  const existing = await db.user.findUnique({ where: { username: spec.username }, select: { id: true } });
  const flags = {
    ...(spec.email !== undefined ? { email: spec.email } : {}),
    ...(spec.staff ? { isStaff: true } : {}),
    ...(spec.superuser ? { isSuperuser: true, isStaff: true } : {}),
    ...(spec.inactive ? { isActive: false } : {}),
  };
  const user = existing
    ? await db.user.update({ where: { id: existing.id }, data: flags, select: { id: true, username: true } })
    : await db.user.create({ data: { username: spec.username, ...flags }, select: { id: true, username: true } });
  for (const p of perms) {
    const perm = await db.permission.upsert({ where: { app_codename: p }, create: { ...p, name: `Can ${p.codename.replace(/_/g, ' ')}` }, update: {} });
    await db.userPermission.upsert({ where: { userId_permissionId: { userId: user.id, permissionId: perm.id } }, create: { userId: user.id, permissionId: perm.id }, update: {} });
  }
  for (const name of spec.group ?? []) {
    const group = await db.group.upsert({ where: { name }, create: { name }, update: {} });
    await db.userGroup.upsert({ where: { userId_groupId: { userId: user.id, groupId: group.id } }, create: { userId: user.id, groupId: group.id }, update: {} });
  }
  invalidateUser(user.id);
  return { created: !existing, user };
}
