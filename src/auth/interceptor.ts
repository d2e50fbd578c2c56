import type { CfgConfig } from '../config/types.ts';
import type { Interceptor } from '../interceptors/types.ts';
import { GrpcError, Status } from '../server/grpc-error.ts';
import { authCache } from './cache.ts';
import { verifyAccessToken } from './jwt.ts';
import { verifyKey } from './keys.ts';
import { loadUser } from './users.ts';

/**
 * JWT authentication. Reads `<tokenHeader>: <tokenPrefix> <token>`; a token that is sent is
 * always verified (a bad one is UNAUTHENTICATED even on a public method); the user is loaded in
 * one query and cached. Without a token, a method that needs a user (requireAuth and not public,
 * or a class with static requireAuth) is UNAUTHENTICATED; otherwise ctx.user stays null.
 */
export async function createAuthInterceptor(config: CfgConfig): Promise<Interceptor> {
  const auth = config.grpc.auth;
  const key = verifyKey(config);
  const header = auth.tokenHeader;
  const prefix = auth.tokenPrefix ? `${auth.tokenPrefix} ` : '';
  const ttl = auth.userCacheTtlMs;
  const { getDb } = await import('../db/client.ts');

  return {
    name: 'auth',
    async intercept(ctx, next) {
      const values = ctx.metadata.get(header);
      if (values.length === 0) {
        if (ctx.method.requiresUser || (auth.requireAuth && !ctx.method.isPublic)) {
          throw new GrpcError(Status.UNAUTHENTICATED, 'Authentication required');
        }
        return next(ctx);
      }
      const raw = String(values[0]);
      if (prefix && !raw.startsWith(prefix)) throw new GrpcError(Status.UNAUTHENTICATED, `${header} must be "${prefix}<token>"`);
      const token = raw.slice(prefix.length).trim();
      const now = Date.now();
      const hit = ttl > 0 ? authCache.get(token, now) : undefined;
      if (hit) {
        ctx.user = hit.user;
        ctx.auth = { kind: 'jwt', claims: hit.claims };
        return next(ctx);
      }
      const verified = verifyAccessToken(token, key, auth);
      const user = await loadUser(await getDb(), verified.userId);
      if (!user) throw new GrpcError(Status.UNAUTHENTICATED, 'Token user not found');
      if (!user.isActive) throw new GrpcError(Status.UNAUTHENTICATED, 'User account is disabled');
      if (ttl > 0) authCache.set(token, { user, claims: verified.claims, until: Math.min(now + ttl, verified.expiresAt) });
      ctx.user = user;
      ctx.auth = { kind: 'jwt', claims: verified.claims };
      return next(ctx);
    },
  };
}
