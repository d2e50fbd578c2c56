import { jsonwebtoken } from './jsonwebtoken.ts';
import type { GrpcAuthConfig } from '../config/types.ts';
import { GrpcError, Status } from '../call/error.ts';

export interface VerifiedToken {
  userId: number;
  claims: Record<string, unknown>;
  /** When the token stops being valid (ms since epoch), or Infinity. */
  expiresAt: number;
}

const deny = (message: string): never => {
  throw new GrpcError(Status.UNAUTHENTICATED, message);
};

/**
 * Verifies a Django simplejwt-style access token (user_id, token_type "access", exp, jti) with
 * exactly the configured algorithm. The user id is `user_id`, else `sub` (simplejwt's
 * USER_ID_CLAIM may name either). A token must expire (unless allowTokensWithoutExp), within
 * maxTokenLifetimeSeconds. Every failure is UNAUTHENTICATED with a message saying which.
 */
export function verifyAccessToken(token: string, key: string, auth: GrpcAuthConfig): VerifiedToken {
  const decoded = jsonwebtoken().decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object') deny('Malformed token');
  const alg = decoded!.header.alg;
  if (alg === 'none') deny('Unsigned tokens (alg "none") are not accepted');
  if (alg !== auth.jwtAlgorithm) deny(`Token algorithm ${alg} is not accepted (this server uses ${auth.jwtAlgorithm})`);
  let claims: Record<string, unknown>;
  try {
    claims = jsonwebtoken().verify(token, key, {
      algorithms: [auth.jwtAlgorithm],
      ignoreExpiration: !auth.jwtVerifyExp,
      clockTolerance: auth.jwtLeeway,
    }) as Record<string, unknown>;
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TokenExpiredError') return deny('Token expired');
    if (e.name === 'NotBeforeError') return deny('Token not yet valid');
    if (/signature/i.test(e.message)) return deny('Invalid token signature');
    return deny(`Invalid token: ${e.message}`);
  }
  const type = claims.token_type;
  if (type === undefined) deny('Token has no token_type claim (an access token has token_type "access")');
  if (type !== 'access') deny(`Token type must be "access", not ${JSON.stringify(type)}`);
  const raw = claims.user_id ?? claims.sub;
  const userId = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(userId) || userId <= 0) deny('Token has no valid user_id claim');
  if (!auth.jwtVerifyExp) return { userId, claims, expiresAt: Infinity };
  if (typeof claims.exp !== 'number') {
    if (!auth.allowTokensWithoutExp) deny('Token has no exp claim; this server refuses tokens that never expire');
    return { userId, claims, expiresAt: Infinity };
  }
  checkLifetime(claims.exp, claims.iat, auth);
  return { userId, claims, expiresAt: (claims.exp + auth.jwtLeeway) * 1000 };
}

/**
 * Refuses a token valid for longer than maxTokenLifetimeSeconds: exp - iat, measured from now
 * instead when iat is missing or in the future (else a far-future iat would hide a far-future exp).
 */
function checkLifetime(exp: number, iat: unknown, auth: GrpcAuthConfig): void {
  const now = Date.now() / 1000;
  const issued = typeof iat === 'number' ? Math.min(iat, now) : now;
  const lifetime = Math.ceil(exp - issued);
  if (lifetime > auth.maxTokenLifetimeSeconds + auth.jwtLeeway)
    deny(`Token lifetime of ${lifetime} s is longer than this server accepts (${auth.maxTokenLifetimeSeconds} s)`);
}
