import type { CfgConfig } from '../config/types.ts';
import type { Db } from '../db/client.ts';
import { getLogger } from '../log/logger.ts';
import { GrpcError, Status } from '../call/error.ts';
import { hashApiKey } from './api-keys.ts';
import { apiKeyRevokedSince, AuthCache, userChangedSince, type CachedAuth } from './cache.ts';
import { loadUser } from './users.ts';

/** lastUsedAt is written at most this often per key (per server). */
export const LAST_USED_EVERY_MS = 60_000;
const log = getLogger('grpc.auth');

const deny = (message: string): never => {
  throw new GrpcError(Status.UNAUTHENTICATED, message);
};

/**
 * API keys for the auth interceptor. A key is looked up by its SHA-256 (one query), its owner
 * loaded (one query), and the result cached like a token's user (userCacheTtlMs, and never past
 * the key's expiry). Revocation in this process drops the entry at once (revokeApiKey); every
 * apiKeyRecheckMs one query re-checks the cached keys, so a key revoked or expired elsewhere, or
 * whose owner was deactivated, is refused within that bound. lastUsedAt is written in the same
 * tick, at most once a minute per key: never a write per call. The HTTP side port, which does not
 * cache keys, reports its uses through recordUse() to have lastUsedAt written the same way.
 */
export class ApiKeyAuthenticator {
  private readonly cache = new AuthCache();
  /** Concurrent first calls with the same key share one lookup. */
  private readonly pending = new Map<string, Promise<CachedAuth>>();
  /** keyId -> time of its last use not written yet. */
  private readonly used = new Map<number, number>();
  /** keyId -> when lastUsedAt was last written. */
  private readonly written = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly config: CfgConfig,
    private readonly db: Db,
  ) {
    this.timer = setInterval(() => void this.tick(), config.grpc.auth.apiKeyRecheckMs);
    this.timer.unref();
  }

  /** The cached entry for `key`, or a promise of it (UNAUTHENTICATED for a bad key). */
  authenticate(key: string, now: number): CachedAuth | Promise<CachedAuth> {
    const entry = this.cache.get(key, now);
    if (entry !== undefined) {
      this.recordUse(entry.auth.keyId!, now);
      return entry;
    }
    let shared = this.pending.get(key);
    if (shared === undefined) {
      shared = this.load(key, now);
      this.pending.set(key, shared);
      const forget = () => this.pending.delete(key);
      shared.then(forget, forget);
    }
    return shared;
  }

  private async load(key: string, now: number): Promise<CachedAuth> {
    const started = performance.now();
    const db = this.db;
    const row = await db.apiKey.findUnique({
      where: { keyHash: hashApiKey(key) },
      select: { id: true, isActive: true, expiresAt: true, userId: true },
    });
    if (!row) return deny('Invalid API key');
    if (!row.isActive) deny('API key revoked');
    const expires = row.expiresAt?.getTime() ?? Infinity;
    if (expires <= now) deny('API key expired');
    let user = await loadUser(db, row.userId);
    if (user && userChangedSince(user.id, started)) user = await loadUser(db, row.userId);
    if (!user) return deny('API key user not found');
    if (!user.isActive) deny('User account is disabled');
    const ttl = this.config.grpc.auth.userCacheTtlMs;
    const entry: CachedAuth = {
      user,
      auth: Object.freeze({ kind: 'apiKey' as const, keyId: row.id }),
      until: Math.min(now + ttl, expires),
    };
    // A revocation in this process while this lookup ran must win.
    if (apiKeyRevokedSince(row.id, started)) deny('API key revoked');
    if (ttl > 0) this.cache.set(key, entry);
    this.recordUse(row.id, now);
    return entry;
  }

  /**
   * Notes a use of key `keyId` at `now` (ms): its lastUsedAt is written by the next tick, then at
   * most once a minute. Only a map update: it never waits for, or fails on, the database.
   */
  recordUse(keyId: number, now: number): void {
    this.used.set(keyId, now);
  }

  /** One recheck and lastUsedAt write; runs every apiKeyRecheckMs (skipped while the last one runs). */
  tick(flushAll = false): Promise<void> {
    this.ticking ??= this.run(flushAll).finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async run(flushAll: boolean): Promise<void> {
    const ids = this.cache.apiKeyIds();
    const now = Date.now();
    const due = [...this.used].filter(([id]) => flushAll || (this.written.get(id) ?? -Infinity) + LAST_USED_EVERY_MS <= now);
    if (ids.length === 0 && due.length === 0) return;
    try {
      const db = this.db;
      if (ids.length > 0) {
        const gone = await db.apiKey.findMany({
          where: { id: { in: ids }, OR: [{ isActive: false }, { expiresAt: { lte: new Date(now) } }, { user: { isActive: false } }] },
          select: { id: true },
        });
        for (const { id } of gone) this.cache.dropApiKey(id);
      }
      for (const [id, at] of due) {
        await db.apiKey.updateMany({ where: { id }, data: { lastUsedAt: new Date(at) } });
        this.written.set(id, now);
        if (this.used.get(id) === at) this.used.delete(id);
      }
    } catch (err) {
      log.debug('API key recheck failed; retrying at the next tick', { error: (err as Error).message.split('\n')[0] });
    }
  }

  /** Stops the timer and writes pending lastUsedAt values (graceful shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    await this.tick(true);
  }
}
