import type { CfgConfig } from '../config/types.ts';
import type { Db } from '../db/client.ts';
import type { Interceptor } from '../call/interceptor.ts';
import type { CallContext } from '../call/context.ts';
import { GrpcError, Status } from '../call/error.ts';
import { checkAccess } from './access.ts';
import { AuthCache, userChangedSince, type CachedAuth } from './cache.ts';
import { CALLER } from './caller.ts';
import { verifyAccessToken } from './jwt.ts';
import { verifyKey } from './keys.ts';
import { loadUser } from './users.ts';
import { failedCall } from './vanished-user.ts';

/**
 * JWT and API key authentication, and each method's access. Reads `<tokenHeader>: <tokenPrefix> <token>`
 * (the prefix compared without regard to case, as HTTP auth schemes are); a token that is sent is
 * always verified, so a bad one is UNAUTHENTICATED even on a public method; the user is loaded in
 * one query and cached. Then the method's access (ctx.method.access, resolved at registration from
 * the class's declaration, see src/services/declared-access.ts) is checked: without a user, a
 * method that needs one is UNAUTHENTICATED; a user without the staff flag or permission it names
 * is PERMISSION_DENIED. The caller is the call's CALLER value (src/auth/caller.ts: userOf(ctx),
 * authOf(ctx)), null when anonymous. A call whose user was deleted while it was cached ends
 * UNAUTHENTICATED, never INTERNAL (src/auth/vanished-user.ts).
 */
export async function createAuthInterceptor(config: CfgConfig, db: Db): Promise<Interceptor> {
  const auth = config.grpc.auth;
  const key = verifyKey(config); // throws a CfgError at start-up when the key is missing
  const header = auth.tokenHeader;
  const exact = auth.tokenPrefix ? `${auth.tokenPrefix} ` : '';
  const prefix = exact.toLowerCase();
  const expected = auth.tokenPrefix ? `"${auth.tokenPrefix} <token>"` : 'the token';
  const ttl = auth.userCacheTtlMs;
  const cache = new AuthCache();
  /** Concurrent first calls with the same token share one verification and one query. */
  const pending = new Map<string, Promise<CachedAuth>>();
  const keyHeader = auth.apiKeyHeader;
  let apiKeys: import('./api-key-auth.ts').ApiKeyAuthenticator | undefined;
  if (keyHeader) {
    const { ApiKeyAuthenticator } = await import('./api-key-auth.ts');
    apiKeys = new ApiKeyAuthenticator(config, db);
  }
  const none: never[] = [];

  async function authenticate(token: string, now: number): Promise<CachedAuth> {
    const verified = verifyAccessToken(token, key, auth);
    const started = performance.now();
    let user = await loadUser(db, verified.userId);
    // Changed (another process announced it) while it loaded: what was read may predate the change.
    if (user && userChangedSince(user.id, started)) user = await loadUser(db, verified.userId);
    if (!user) throw new GrpcError(Status.UNAUTHENTICATED, 'Token user not found');
    if (!user.isActive) throw new GrpcError(Status.UNAUTHENTICATED, 'User account is disabled');
    const entry: CachedAuth = { user, auth: { kind: 'jwt', claims: verified.claims }, until: Math.min(now + ttl, verified.expiresAt) };
    if (ttl > 0) cache.set(token, entry);
    return entry;
  }

  /** The caller's cached entry (or the promise of it) from an API key or a token; null when the call sends neither. */
  function identify(ctx: CallContext): CachedAuth | Promise<CachedAuth> | null {
    const values = ctx.metadata.get(header);
    const keys = keyHeader ? ctx.metadata.get(keyHeader) : none;
    if (keys.length > 0) {
      if (values.length > 0)
        throw new GrpcError(Status.UNAUTHENTICATED, `Send either the ${header} header or the ${keyHeader} header, not both`);
      const key = typeof keys[0] === 'string' ? keys[0].trim() : '';
      if (!key) throw new GrpcError(Status.UNAUTHENTICATED, `The ${keyHeader} header is empty`);
      return apiKeys!.authenticate(key, Date.now());
    }
    if (values.length === 0) return null;
    const raw = typeof values[0] === 'string' ? values[0] : '';
    if (prefix && !raw.startsWith(exact) && (raw.length <= prefix.length || raw.slice(0, prefix.length).toLowerCase() !== prefix)) {
      throw new GrpcError(Status.UNAUTHENTICATED, `The ${header} header must be ${expected}`);
    }
    const token = raw.slice(prefix.length).trim();
    const now = Date.now();
    const entry = ttl > 0 ? cache.get(token, now) : undefined;
    if (entry !== undefined) return entry;
    let shared = pending.get(token);
    if (shared === undefined) {
      shared = authenticate(token, now);
      pending.set(token, shared);
      const forget = () => pending.delete(token);
      shared.then(forget, forget);
    }
    return shared;
  }

  return {
    name: 'auth',
    async intercept(ctx, next) {
      const found = identify(ctx);
      if (found === null) {
        if (ctx.method.access.needsUser) throw new GrpcError(Status.UNAUTHENTICATED, 'Authentication required');
        return next(ctx);
      }
      const entry = found instanceof Promise ? await found : found;
      ctx.values.set(CALLER, entry);
      checkAccess(ctx.method.access, entry.user);
      try {
        await next(ctx);
      } catch (err) {
        await failedCall(err, entry.user, db, entry.auth.kind === 'apiKey' ? 'API key user not found' : 'Token user not found');
      }
    },
    close: () => apiKeys?.close(),
  };
}

/**
 * The auth slot when grpc.auth.enabled is false: no caller can be authenticated, so a method
 * whose access needs a user is refused (UNAUTHENTICATED) rather than served to anyone; the others
 * do not cross it at all.
 */
export function refuseWithoutAuth(): Interceptor {
  return {
    name: 'auth-disabled',
    appliesTo: (method) => method.access.needsUser,
    async intercept(ctx) {
      throw new GrpcError(
        Status.UNAUTHENTICATED,
        `Authentication required: ${ctx.method.name} needs a signed-in caller, and this server has grpc.auth.enabled false`,
      );
    },
  };
}
