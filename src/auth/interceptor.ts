import type { CfgConfig } from '../config/types.ts';
import type { Interceptor } from '../interceptors/types.ts';
import { GrpcError, Status } from '../server/grpc-error.ts';
import { AuthCache, type CachedAuth } from './cache.ts';
import { verifyAccessToken } from './jwt.ts';
import { verifyKey } from './keys.ts';
import { loadUser } from './users.ts';

/**
 * JWT and API key authentication. Reads `<tokenHeader>: <tokenPrefix> <token>` (the prefix compared without
 * regard to case, as HTTP auth schemes are); a token that is sent is always verified, so a bad one
 * is UNAUTHENTICATED even on a public method; the user is loaded in one query and cached. Without
 * a token, a method that needs a user (requireAuth and not public, or a class with static
 * requireAuth) is UNAUTHENTICATED; otherwise ctx.user stays null.
 */
export async function createAuthInterceptor(config: CfgConfig): Promise<Interceptor> {
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
  const { getDb } = await import('../db/client.ts');
  const keyHeader = auth.apiKeyHeader;
  let apiKeys: import('./api-key-auth.ts').ApiKeyAuthenticator | undefined;
  if (keyHeader) {
    const { ApiKeyAuthenticator } = await import('./api-key-auth.ts');
    apiKeys = new ApiKeyAuthenticator(config, () => getDb(config));
  }
  const none: never[] = [];

  async function authenticate(token: string, now: number): Promise<CachedAuth> {
    const verified = verifyAccessToken(token, key, auth);
    const user = await loadUser(await getDb(config), verified.userId);
    if (!user) throw new GrpcError(Status.UNAUTHENTICATED, 'Token user not found');
    if (!user.isActive) throw new GrpcError(Status.UNAUTHENTICATED, 'User account is disabled');
    const entry: CachedAuth = { user, auth: { kind: 'jwt', claims: verified.claims }, until: Math.min(now + ttl, verified.expiresAt) };
    if (ttl > 0) cache.set(token, entry);
    return entry;
  }

  return {
    name: 'auth',
    async intercept(ctx, next) {
      const values = ctx.metadata.get(header);
      const keys = keyHeader ? ctx.metadata.get(keyHeader) : none;
      if (keys.length > 0) {
        if (values.length > 0) throw new GrpcError(Status.UNAUTHENTICATED, `Send either the ${header} header or the ${keyHeader} header, not both`);
        const key = typeof keys[0] === 'string' ? keys[0].trim() : '';
        if (!key) throw new GrpcError(Status.UNAUTHENTICATED, `The ${keyHeader} header is empty`);
        const found = apiKeys!.authenticate(key, Date.now());
        const entry = found instanceof Promise ? await found : found;
        ctx.user = entry.user;
        ctx.auth = entry.auth;
        return next(ctx);
      }
      if (values.length === 0) {
        if (ctx.method.requiresUser || (auth.requireAuth && !ctx.method.isPublic)) {
          throw new GrpcError(Status.UNAUTHENTICATED, 'Authentication required');
        }
        return next(ctx);
      }
      const raw = typeof values[0] === 'string' ? values[0] : '';
      if (prefix && !raw.startsWith(exact) && (raw.length <= prefix.length || raw.slice(0, prefix.length).toLowerCase() !== prefix)) {
        throw new GrpcError(Status.UNAUTHENTICATED, `The ${header} header must be ${expected}`);
      }
      const token = raw.slice(prefix.length).trim();
      const now = Date.now();
      let entry = ttl > 0 ? cache.get(token, now) : undefined;
      if (entry === undefined) {
        let shared = pending.get(token);
        if (shared === undefined) {
          shared = authenticate(token, now);
          pending.set(token, shared);
          const forget = () => pending.delete(token);
          shared.then(forget, forget);
        }
        entry = await shared;
      }
      ctx.user = entry.user;
      ctx.auth = entry.auth;
      return next(ctx);
    },
    close: () => apiKeys?.close(),
  };
}
