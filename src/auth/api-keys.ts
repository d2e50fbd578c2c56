import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/client.ts';
import { CfgError } from '../errors.ts';
import { invalidateApiKey } from './cache.ts';

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
}

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
  user: { select: { username: true } },
} as const;

type Row = { id: number; name: string; prefix: string; userId: number; isActive: boolean; createdAt: Date; expiresAt: Date | null; lastUsedAt: Date | null; user: { username: string } };

function info(row: Row): ApiKeyInfo {
  const { user, ...rest } = row;
  return { ...rest, username: user.username };
}

/** Creates a key for a user. `key` is returned once and never stored: only its hash is. */
export async function createApiKey(db: Db, options: { userId: number; name: string; expiresAt?: Date | null }): Promise<{ key: string; apiKey: ApiKeyInfo }> {
  const name = options.name.trim();
  if (name.length === 0 || name.length > 100) throw new CfgError('E_USAGE', 'An API key needs a name of 1 to 100 characters.', 'e.g. --name "billing export"');
  const expiresAt = options.expiresAt ?? null;
  if (expiresAt !== null && !(expiresAt instanceof Date && Number.isFinite(expiresAt.getTime()))) throw new CfgError('E_USAGE', 'expiresAt must be a valid Date or null.');
  const user = await db.user.findUnique({ where: { id: options.userId }, select: { id: true } });
  if (!user) throw new CfgError('E_USER', `No user with id ${options.userId}.`, 'Create it first: cfg createuser --username NAME');
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const row = await db.apiKey.create({
    data: { name, prefix: key.slice(0, SHOWN), keyHash: hashApiKey(key), userId: user.id, expiresAt },
    select,
  });
  return { key, apiKey: info(row) };
}

/** Every key, oldest first, with its owner's username. */
export async function listApiKeys(db: Db): Promise<ApiKeyInfo[]> {
  return (await db.apiKey.findMany({ select, orderBy: { id: 'asc' } })).map(info);
}

/**
 * Revokes a key: false when no key has this id (revoking a revoked key again is true). Every
 * cache of this process forgets it at once; servers in other processes stop accepting it within
 * grpc.auth.apiKeyRecheckMs (docs/auth.md "API keys").
 */
export async function revokeApiKey(db: Db, id: number): Promise<boolean> {
  if (!Number.isSafeInteger(id) || id <= 0) return false;
  invalidateApiKey(id);
  const { count } = await db.apiKey.updateMany({ where: { id }, data: { isActive: false } });
  invalidateApiKey(id); // again: a call that loaded the key while the update ran must not keep it
  return count > 0;
}
