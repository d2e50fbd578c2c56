// grpc.auth: the guide's GRPCAuthConfig. Each setting once: its doc, its check (checks.ts), its
// default, and the environment variable that overrides it, if any.
import { bool, int, list, oneOf, pattern, section, str, strOrNull } from './checks.ts';
import { env } from './meta.ts';

/** JWT algorithms cfg accepts; tokens are verified with exactly the configured one. */
export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'] as const;

export const grpcAuth = section({
  /** Verify tokens. Default true. */
  enabled: bool().default(true),
  /** Every method needs a valid token, except health, reflection and public methods. */
  requireAuth: bool().default(false),
  /** HS/RS/ES 256/384/512; tokens must use exactly this one. Default "HS256". */
  jwtAlgorithm: oneOf(JWT_ALGORITHMS).default('HS256'),
  /** HS* secret. Env: CFG_JWT_SECRET; falls back to the project secret (CFG_SECRET_KEY or var/secret_key). */
  jwtSecretKey: env('CFG_JWT_SECRET', strOrNull().default(null)),
  /** RS/ES public key, PEM text or a path to a PEM file. Env: CFG_JWT_PUBLIC_KEY. */
  jwtPublicKey: env('CFG_JWT_PUBLIC_KEY', strOrNull().default(null)),
  /** RS/ES private key for `cfg token`, PEM text or path. Env: CFG_JWT_PRIVATE_KEY. */
  jwtPrivateKey: env('CFG_JWT_PRIVATE_KEY', strOrNull().default(null)),
  /** Check exp (and the two settings below). false accepts expired tokens, and tokens without exp, whatever else is set. Default true. */
  jwtVerifyExp: bool().default(true),
  /** Clock skew allowed on exp/nbf (and on the lifetime below), in seconds. Default 0. */
  jwtLeeway: int(0, 86_400).default(0),
  /**
   * Accept access tokens that carry no exp claim: such a token never expires. Default false: it
   * is UNAUTHENTICATED "Token has no exp claim".
   */
  allowTokensWithoutExp: bool().default(false),
  /**
   * The longest token lifetime accepted, in seconds: a token whose exp lies further than this
   * after its iat (after now, when it has no iat or one in the future) is UNAUTHENTICATED, so a
   * leaked token is not valid for months. `cfg token --ttl` cannot exceed it. Default 86400 (1 day).
   */
  maxTokenLifetimeSeconds: int(60, 31_536_000).default(86_400),
  /** Metadata key carrying the token. Default "authorization". */
  tokenHeader: pattern(/^[a-z0-9-_.]+$/, 'a lower-case metadata key ("authorization")').default('authorization'),
  /** What comes before the token in that header. Default "Bearer". */
  tokenPrefix: str().default('Bearer'),
  /** Full method names ("/pkg.Service/Method") that need no token (never one whose class declares other access). */
  publicMethods: list(pattern(/^\/[\w.]+\/\w+$/, 'a full method name "/package.Service/Method"')).default([
    '/grpc.health.v1.Health/Check',
    '/grpc.health.v1.Health/Watch',
  ]),
  /** How long a verified token's user is cached. 0 turns the cache off. Default 30000 ms. */
  userCacheTtlMs: int(0, 86_400_000).default(30_000),
  /** Metadata key carrying an API key ("x-api-key"); "" turns API keys off. */
  apiKeyHeader: apiKeyHeader().default('x-api-key'),
  /**
   * How often a server re-checks the API keys it holds in its cache against the database, so that
   * a key revoked or expired by another process is refused within this bound even when the event
   * channel did not carry the revocation (docs/events.md). A revocation in the server's own process
   * takes effect at once. Default 1000 ms. Env: CFG_API_KEY_RECHECK_MS.
   */
  apiKeyRecheckMs: env('CFG_API_KEY_RECHECK_MS', int(100, 3_600_000).default(1000)),
});

/** A lower-case metadata key that is not binary ("-bin"), or "". */
function apiKeyHeader() {
  const expected = 'a lower-case metadata key ("x-api-key"), or "" to turn API keys off';
  return pattern(/^([a-z0-9-_.]+)?$/, expected).refine((v) => !v.endsWith('-bin'), { error: expected });
}
