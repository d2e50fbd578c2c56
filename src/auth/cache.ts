import type { AuthInfo, AuthUser } from './types.ts';

/** A cache entry is the call's Caller (src/auth/caller.ts) as it is: made once per token, not per call. */
export interface CachedAuth {
  user: AuthUser;
  auth: AuthInfo;
  /** ms since epoch after which the entry is dropped. */
  until: number;
}

const DEFAULT_MAX = 10_000;
/** Every live cache, so that invalidateUser/clearAuthCache reach the caches of every server. */
const caches = new Set<WeakRef<AuthCache>>();

/**
 * Verified token -> user, for min(userCacheTtlMs, the token's lifetime): a repeated token costs no
 * signature check and no query. One per auth interceptor (two servers in a process with different
 * keys or databases never share entries). Bounded: the oldest entry goes first.
 */
export class AuthCache {
  private readonly byToken = new Map<string, CachedAuth>();

  constructor(private readonly max = DEFAULT_MAX) {
    caches.add(new WeakRef(this));
  }

  get(token: string, now: number): CachedAuth | undefined {
    const e = this.byToken.get(token);
    if (e === undefined) return undefined;
    if (e.until > now) return e;
    this.byToken.delete(token);
    return undefined;
  }

  set(token: string, entry: CachedAuth): void {
    if (this.byToken.size >= this.max) this.byToken.delete(this.byToken.keys().next().value!);
    this.byToken.set(token, entry);
  }

  dropUser(userId: number): void {
    for (const [token, e] of this.byToken) if (e.user.id === userId) this.byToken.delete(token);
  }

  /** Forgets every entry authenticated by API key `keyId`. */
  dropApiKey(keyId: number): void {
    for (const [token, e] of this.byToken) if (e.auth.keyId === keyId) this.byToken.delete(token);
  }

  /** The API key ids held (for the revalidation query). */
  apiKeyIds(): number[] {
    const ids = new Set<number>();
    for (const e of this.byToken.values()) if (e.auth.keyId !== undefined) ids.add(e.auth.keyId);
    return [...ids];
  }

  clear(): void {
    this.byToken.clear();
  }

  get size(): number {
    return this.byToken.size;
  }
}

function eachCache(fn: (cache: AuthCache) => void): void {
  for (const ref of caches) {
    const cache = ref.deref();
    if (cache) fn(cache);
    else caches.delete(ref);
  }
}

/**
 * Forgets every cached token of a user in this process, so that the next call loads the user
 * again (after a permission, group, staff or active change). `cfg createuser` and upsertUser call it.
 */
export function invalidateUser(userId: number): void {
  changedAt.set(userId, performance.now());
  eachCache((c) => c.dropUser(userId));
}

/** performance.now() of each user's last invalidation in this process. */
const changedAt = new Map<number, number>();

/**
 * Whether user `userId` was invalidated in this process after `since` (performance.now()): a user
 * read from the database before the change committed must be read again, not cached.
 */
export function userChangedSince(userId: number, since: number): boolean {
  const at = changedAt.get(userId);
  return at !== undefined && at >= since;
}

/** performance.now() of each API key's last in-process revocation. */
const revokedAt = new Map<number, number>();

/** Forgets every cached entry of API key `keyId` in this process (revokeApiKey calls it). */
export function invalidateApiKey(keyId: number): void {
  revokedAt.set(keyId, performance.now());
  eachCache((c) => c.dropApiKey(keyId));
}

/**
 * Whether API key `keyId` was revoked in this process after `since` (performance.now()): a key
 * read from the database before a revocation committed must not be cached after it.
 */
export function apiKeyRevokedSince(keyId: number, since: number): boolean {
  const at = revokedAt.get(keyId);
  return at !== undefined && at >= since;
}

/** Forgets every cached token in this process. */
export function clearAuthCache(): void {
  eachCache((c) => c.clear());
}
