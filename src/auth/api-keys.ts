import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/client.ts';
import { CfgError } from '../errors.ts';
import { getLogger } from '../log/logger.ts';
import { actingForDenied, assertMayActFor } from './acting-for.ts';
import { invalidateApiKey } from './cache.ts';
import { announceAuthChange } from './events.ts';
import type { AuthUser } from './types.ts';
import { loadUser, loadUsers } from './users.ts';

const log = getLogger('grpc.auth');

/** An API key as people see it: never the key itself, only its prefix. */
export interface ApiKeyInfo {
  id: number;
  name: string;
  /** The key's first characters ("cfg_AbCd1234"), to tell keys apart. */
  prefix: string;
  userId: number;
  username: string;
  isActive: boolean;
  createdAt: Date;
  expiresAt: Date | null;
  /** When a call last used it (written in batches: up to a minute late; see docs/auth.md "API keys"). */
  lastUsedAt: Date | null;
  /** The signed-in user who made it; null when made with database access (cfg apikey create, code). */
  createdById: number | null;
  createdBy: string | null;
}

/**
 * Who asks. `actor` is the signed-in user acting (the HTTP side port passes its caller): acting on
 * another user's keys then follows the one rule of src/auth/acting-for.ts (PERMISSION_DENIED
 * otherwise), and a list shows only the keys the actor may manage. Without an actor the caller is
 * the operator, who has database access anyway: `cfg apikey`, seeds, code.
 */
export interface Acting {
  actor?: AuthUser;
}

/** How the log names who acted. */
const by = (actor: AuthUser) => `${actor.username} (id ${actor.id})`;

/** "cfg_" and 43 base64url characters: 256 random bits. */
const KEY_PREFIX = 'cfg_';
const SHOWN = KEY_PREFIX.length + 8;

/**
 * The stored form of a key: SHA-256, hex. A key is 256 random bits, so a fast unsalted hash is
 * safe here (nothing to brute-force, unlike a password) and lets a call find its key by index.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

const select = {
  id: true,
  name: true,
  prefix: true,
  userId: true,
  isActive: true,
  createdAt: true,
  expiresAt: true,
  lastUsedAt: true,
  createdById: true,
  user: { select: { username: true } },
  createdBy: { select: { username: true } },
} as const;

type Row = {
  id: number;
  name: string;
  prefix: string;
  userId: number;
  isActive: boolean;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  createdById: number | null;
  user: { username: string };
  createdBy: { username: string } | null;
};

function info(row: Row): ApiKeyInfo {
  const { user, createdBy, ...rest } = row;
  return { ...rest, username: user.username, createdBy: createdBy?.username ?? null };
}

/** Throws PERMISSION_DENIED unless `actor` (if any) may manage user `userId`'s keys; false when there is no such user. */
async function mayManage(db: Db, actor: AuthUser | undefined, userId: number): Promise<boolean> {
  if (!actor || actor.id === userId) return true;
  const owner = await loadUser(db, userId);
  if (!owner) return false;
  assertMayActFor(actor, owner);
  return true;
}

/**
 * Creates a key for a user (for another user only as src/auth/acting-for.ts allows `actor`). `key`
 * is returned once and never stored: only its hash is. Who made it for whom is stored
 * (createdById) and, for a signed-in actor, logged.
 */
export async function createApiKey(
  db: Db,
  options: { userId: number; name: string; expiresAt?: Date | null } & Acting,
): Promise<{ key: string; apiKey: ApiKeyInfo }> {
  const name = options.name.trim();
  if (name.length === 0 || name.length > 100)
    throw new CfgError('E_USAGE', 'An API key needs a name of 1 to 100 characters.', 'e.g. --name "billing export"');
  const expiresAt = options.expiresAt ?? null;
  if (expiresAt !== null && !(expiresAt instanceof Date && Number.isFinite(expiresAt.getTime())))
    throw new CfgError('E_USAGE', 'expiresAt must be a valid Date or null.');
  const { actor } = options;
  const user = await db.user.findUnique({ where: { id: options.userId }, select: { id: true } });
  if (!user || !(await mayManage(db, actor, user.id)))
    throw new CfgError('E_USER', `No user with id ${options.userId}.`, 'Create it first: cfg createuser --username NAME');
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const row = await db.apiKey.create({
    data: { name, prefix: key.slice(0, SHOWN), keyHash: hashApiKey(key), userId: user.id, expiresAt, createdById: actor?.id ?? null },
    select,
  });
  // A signed-in actor is logged; the operator (cfg apikey, code) is told by the command itself.
  if (actor) log.info(`API key ${row.id} "${row.name}" for ${row.user.username} (id ${row.userId}) created by ${by(actor)}`);
  return { key, apiKey: info(row) };
}

/** Every key (with an actor: every key the actor may manage), oldest first, with its owner's username. */
export async function listApiKeys(db: Db, { actor }: Acting = {}): Promise<ApiKeyInfo[]> {
  const rows = await db.apiKey.findMany({ select, orderBy: { id: 'asc' } });
  if (!actor) return rows.map(info);
  const owners = await loadUsers(
    db,
    rows.filter((r) => r.userId !== actor.id).map((r) => r.userId),
  );
  return rows
    .filter((r) => r.userId === actor.id || (owners.has(r.userId) && actingForDenied(actor, owners.get(r.userId)!) === null))
    .map(info);
}

/**
 * Revokes a key: false when no key has this id (revoking a revoked key again is true); another
 * user's key only as src/auth/acting-for.ts allows `actor` (PERMISSION_DENIED otherwise). Every
 * cache of this process forgets it at once; servers in other processes are told through the event
 * channel (docs/events.md) and refuse it within its delay; should that fail, within
 * grpc.auth.apiKeyRecheckMs (docs/auth.md "API keys").
 */
export async function revokeApiKey(db: Db, id: number, { actor }: Acting = {}): Promise<boolean> {
  if (!Number.isSafeInteger(id) || id <= 0) return false;
  if (actor) {
    const row = await db.apiKey.findUnique({ where: { id }, select: { userId: true } });
    if (!row || !(await mayManage(db, actor, row.userId))) return false;
  }
  invalidateApiKey(id);
  const { count } = await db.apiKey.updateMany({ where: { id }, data: { isActive: false } });
  invalidateApiKey(id); // again: a call that loaded the key while the update ran must not keep it
  if (count > 0) await announceAuthChange(db, { apiKeyId: id });
  if (count > 0 && actor) log.info(`API key ${id} revoked by ${by(actor)}`);
  return count > 0;
}
