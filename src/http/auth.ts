import type { IncomingHttpHeaders } from 'node:http';
import { ApiKeyAuthenticator } from '../auth/api-key-auth.ts';
import { hashApiKey } from '../auth/api-keys.ts';
import { verifyAccessToken } from '../auth/jwt.ts';
import { verifyKey } from '../auth/keys.ts';
import type { AuthUser } from '../auth/types.ts';
import { loadUser } from '../auth/users.ts';
import type { CfgConfig } from '../config/types.ts';
import type { Db } from '../db/client.ts';
import { GrpcError } from '../call/error.ts';
import { HttpError } from './router.ts';

/** The side port's authenticator. */
export interface HttpAuthenticator {
  /** Resolves a request's credentials to a staff user, or throws a 401/403 HttpError. */
  authenticate(headers: IncomingHttpHeaders): Promise<AuthUser>;
  /** Stops the lastUsedAt timer and writes the pending values (side port shutdown). */
  close(): Promise<void>;
}

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;
const unauthenticated = (message: string) => new HttpError(401, 'unauthenticated', message);

/**
 * The side port's auth: `Authorization: Bearer <JWT>` (the same access tokens as gRPC, verified
 * with the same key and algorithm) or an API key, in grpc.auth.apiKeyHeader (`x-api-key`) or as the bearer value (what a
 * Prometheus scrape config sends). Only active staff (or superuser) accounts pass: no or bad
 * credentials are 401, a valid non-staff caller is 403. Nothing is cached, so a revoked key or a
 * demoted user is refused on the next request. A key's use is handed to an ApiKeyAuthenticator of
 * the port's own (its cache stays empty: only its timer runs), which writes lastUsedAt as for gRPC
 * calls: within a recheck interval, then at most once a minute per key, never in the request.
 */
export function httpAuthenticator(config: CfgConfig, db: Db): HttpAuthenticator {
  const key = tokenKey(config);
  const keyUse = new ApiKeyAuthenticator(config, db);
  const userForKey = async (credential: string): Promise<AuthUser> => {
    const { user, keyId } = await ownerOfKey(db, credential);
    keyUse.recordUse(keyId, Date.now());
    return user;
  };
  const authenticate = async (headers: IncomingHttpHeaders): Promise<AuthUser> => {
    const apiKeyHeader = headers[config.grpc.auth.apiKeyHeader];
    const authorization = headers.authorization;
    let user: AuthUser | null;
    if (typeof apiKeyHeader === 'string' && apiKeyHeader !== '') {
      user = await userForKey(apiKeyHeader.trim());
    } else if (typeof authorization === 'string' && authorization !== '') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!m) throw unauthenticated('The Authorization header must be "Bearer <token or API key>".');
      const credential = m[1]!;
      if (JWT_SHAPE.test(credential)) {
        if (key === null)
          throw unauthenticated(
            `Tokens cannot be verified: grpc.auth.jwtAlgorithm is ${config.grpc.auth.jwtAlgorithm} and no grpc.auth.jwtPublicKey is set; use a staff API key.`,
          );
        let userId: number;
        try {
          userId = verifyAccessToken(credential, key, config.grpc.auth).userId;
        } catch (err) {
          if (err instanceof GrpcError) throw unauthenticated(err.message);
          throw err;
        }
        user = await loadUser(db, userId);
        if (!user) throw unauthenticated('Token user not found');
      } else {
        user = await userForKey(credential);
      }
    } else {
      throw unauthenticated(
        `Credentials required: "Authorization: Bearer <staff token>" or "${config.grpc.auth.apiKeyHeader}: <staff API key>".`,
      );
    }
    if (!user.isActive) throw unauthenticated('User account is disabled');
    if (!user.isStaff && !user.isSuperuser)
      throw new HttpError(403, 'forbidden', `User ${user.username} is not staff; the operations API is for staff users.`);
    return user;
  };
  return { authenticate, close: () => keyUse.close() };
}

/**
 * The key tokens are verified with. gRPC auth being off does not open the side port: tokens are
 * still verified with the project's key; only an RS/ES setup without a public key leaves API keys
 * as the one way in (with gRPC auth on, start-up has already refused that setup).
 */
function tokenKey(config: CfgConfig): string | null {
  try {
    return verifyKey(config);
  } catch (err) {
    if (config.grpc.auth.enabled) throw err;
    return null;
  }
}

/** The owner of an active, unexpired key, and the key's id (looked up by its hash, as every time: no cache). */
async function ownerOfKey(db: Db, key: string): Promise<{ user: AuthUser; keyId: number }> {
  const row = await db.apiKey.findUnique({
    where: { keyHash: hashApiKey(key) },
    select: { id: true, userId: true, isActive: true, expiresAt: true },
  });
  if (!row) throw unauthenticated('Invalid API key');
  if (!row.isActive) throw unauthenticated('API key revoked');
  if (row.expiresAt !== null && row.expiresAt.getTime() <= Date.now()) throw unauthenticated('API key expired');
  const user = await loadUser(db, row.userId);
  if (!user) throw unauthenticated('API key owner not found');
  return { user, keyId: row.id };
}
