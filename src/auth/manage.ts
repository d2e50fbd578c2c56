import type { CfgConfig } from '../config/types.ts';
import type { Db } from '../db/client.ts';
import { CfgError } from '../errors.ts';
import { createApiKey, type ApiKeyInfo } from './api-keys.ts';
import { invalidateUser } from './cache.ts';
import { announceAuthChange } from './events.ts';
import { mintAccessToken } from './tokens.ts';

export interface UserSpec {
  username: string;
  email?: string;
  staff?: boolean;
  superuser?: boolean;
  inactive?: boolean;
  /** "app.codename"; created when missing, unless knownPermsOnly. */
  perm?: string[];
  /** Refuse (E_PERMISSION_UNKNOWN) permissions that do not exist yet: createuser does, unless --create-perm. */
  knownPermsOnly?: boolean;
  group?: string[];
}

/**
 * Refuses permissions that do not exist (a typo would otherwise grant a new, meaningless one),
 * naming the ones that do.
 */
async function assertKnownPermissions(db: Db, perms: Array<{ app: string; codename: string }>): Promise<void> {
  if (perms.length === 0) return;
  const known = (
    await db.permission.findMany({ select: { app: true, codename: true }, orderBy: [{ app: 'asc' }, { codename: 'asc' }] })
  ).map((p) => `${p.app}.${p.codename}`);
  const unknown = perms.map((p) => `${p.app}.${p.codename}`).filter((p) => !known.includes(p));
  if (unknown.length === 0) return;
  throw new CfgError(
    'E_PERMISSION_UNKNOWN',
    `Unknown permission${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${known.join(', ') || 'none (run cfg seed?)'}.`,
    `Use a known one, or add --create-perm to create ${unknown.length > 1 ? 'them' : 'it'}.`,
  );
}

/** Creates or updates a user; groups (and permissions, unless knownPermsOnly) are created as needed. */
export async function upsertUser(db: Db, spec: UserSpec): Promise<{ created: boolean; user: { id: number; username: string } }> {
  if (!/^[\w.@+-]{1,150}$/.test(spec.username))
    throw new CfgError('E_USAGE', `Username "${spec.username}" is not valid.`, 'Use up to 150 letters, digits and @.+-_ characters.');
  const perms = (spec.perm ?? []).map((p) => {
    const m = /^([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)$/i.exec(p);
    if (!m) throw new CfgError('E_USAGE', `Permission "${p}" must be "app.codename".`, 'e.g. --perm crypto.delete_coin');
    return { app: m[1]!, codename: m[2]! };
  });
  if (spec.knownPermsOnly) await assertKnownPermissions(db, perms);
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
    const perm = await db.permission.upsert({
      where: { app_codename: p },
      create: { ...p, name: `Can ${p.codename.replace(/_/g, ' ')}` },
      update: {},
    });
    await db.userPermission.upsert({
      where: { userId_permissionId: { userId: user.id, permissionId: perm.id } },
      create: { userId: user.id, permissionId: perm.id },
      update: {},
    });
  }
  for (const name of spec.group ?? []) {
    const group = await db.group.upsert({ where: { name }, create: { name }, update: {} });
    await db.userGroup.upsert({
      where: { userId_groupId: { userId: user.id, groupId: group.id } },
      create: { userId: user.id, groupId: group.id },
      update: {},
    });
  }
  invalidateUser(user.id);
  // Every other process of the deployment forgets the user too (a new user has nothing cached).
  if (existing) await announceAuthChange(db, { userId: user.id });
  return { created: !existing, user };
}

/**
 * The id of the active user `username`; E_USER when there is no such user or it is inactive
 * (`what` names what would be refused: "tokens", "keys").
 */
export async function activeUserId(db: Db, username: string, what: string): Promise<number> {
  const user = await db.user.findUnique({ where: { username }, select: { id: true, isActive: true } });
  if (!user) throw new CfgError('E_USER', `No user "${username}".`, `Create it: cfg createuser --username ${username}`);
  if (!user.isActive)
    throw new CfgError('E_USER', `User "${username}" is inactive; its ${what} would be refused.`, 'Reactivate the user first.');
  return user.id;
}

/** An access token for the active user `username` (cfg token, cfg call --token-user). */
export async function accessTokenFor(db: Db, config: CfgConfig, username: string, ttlSeconds: number): Promise<string> {
  return mintAccessToken(config, await activeUserId(db, username, 'tokens'), ttlSeconds);
}

/** A new API key for the active user `username` (cfg apikey create): the key, shown once, and its row. */
export async function createApiKeyFor(
  db: Db,
  options: { username: string; name: string; expiresAt?: Date | null },
): Promise<{ key: string; apiKey: ApiKeyInfo }> {
  const userId = await activeUserId(db, options.username, 'keys');
  return createApiKey(db, { userId, name: options.name, expiresAt: options.expiresAt ?? null });
}
