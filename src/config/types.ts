import type { LogFormat, LogLevel } from '../log/logger.ts';
import type { Interceptor } from '../call/interceptor.ts';

/** JWT algorithms cfg accepts; tokens are verified with exactly the configured one. */
export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export type Compression = 'none' | 'gzip' | 'deflate';

/** `grpc.server`: the guide's GRPCServerConfig, plus transport settings. */
export interface GrpcServerConfig {
  /** Address to bind. Default "[::]" (all interfaces, IPv4 and IPv6). Env: CFG_GRPC_HOST. */
  host: string;
  /** Port to bind; 0 picks a free one. Default 50051. Env: CFG_GRPC_PORT. */
  port: number;
  /**
   * Most unary and client-streaming calls one process runs at once (a thread pool in Python;
   * here a bound on in-flight calls). Calls past it wait in order, up to 100 x maxWorkers of
   * them, then get RESOURCE_EXHAUSTED. Server-streaming and bidi calls are not counted (an idle
   * stream holds no thread on Node). Per process: see `processes`. Default 10. Env: CFG_GRPC_MAX_WORKERS.
   */
  maxWorkers: number;
  /** Processes serving the port (node:cluster); "auto" means one per core. Default 1. Env: CFG_GRPC_PROCESSES. */
  processes: number | 'auto';
  enableReflection: boolean;
  enableHealthCheck: boolean;
  /** How long shutdown waits for in-flight calls before cancelling them. Default 10000 ms. */
  shutdownGraceMs: number;
  /**
   * Response compression: "gzip" or "deflate" compresses every response message of a call whose
   * client lists that algorithm in grpc-accept-encoding (grpc-js and grpcio clients list both);
   * other clients get identity. Compressed requests (gzip, deflate) are always accepted, their
   * inflated size checked against maxReceiveMessageLength. Default "none".
   */
  compression: Compression;
  /** Largest request accepted, in bytes (1 KiB to 100 MiB). Default 4 MiB. */
  maxReceiveMessageLength: number;
  /** Largest response sent, in bytes (1 KiB to 100 MiB). Default 4 MiB. */
  maxSendMessageLength: number;
  /** HTTP/2 keepalive ping interval. Default 2 h. */
  keepaliveTimeMs: number;
  /** How long to wait for the ping's answer. Default 20 s. */
  keepaliveTimeoutMs: number;
  /** Close connections older than this (lets load balancers rebalance); 0 means never. Default 0. */
  maxConnectionAgeMs: number;
  /**
   * A new connection must send the HTTP/2 preface and SETTINGS within this long, or it is closed
   * (with TLS: finish the TLS handshake within this long, then the preface within this long). A
   * peer that does not close its end within this long after the server closed the connection
   * (idle, age, shutdown) is cut off. Default 10000 ms.
   */
  handshakeTimeoutMs: number;
  /** Close a connection that has had no open call for this long (grpc-js max_connection_idle_ms); 0 means never. Default 300000 ms (5 min). */
  maxConnectionIdleMs: number;
  /**
   * Most connections one process holds open on the gRPC port; further ones are closed at once and
   * counted in one warning per 10 s. Keep it under the process's descriptor limit (ulimit -n).
   * Per process: see `processes`. Default 5000.
   */
  maxConnections: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients: calls open at once on one connection. Default 100. */
  maxConcurrentStreams: number;
  /**
   * The project's interceptors: module references "path/to/file#export" or interceptor objects.
   * They run innermost, after auth, in the order listed (docs/services.md "Interceptors").
   */
  interceptors: Array<string | Interceptor>;
  /** An OpenTelemetry span per call (needs an SDK registered by the application). Default false. */
  tracing: boolean;
  /** TLS: PEM file paths. With `clientCa`, clients must present a certificate (mutual TLS). */
  tls: { cert: string; key: string; clientCa?: string } | null;
}

/** `grpc.proto`: the guide's GRPCProtoConfig. */
export interface GrpcProtoConfig {
  /** Run generate-proto on rungrpc when stubs are missing or older than the protos. Default true. */
  autoGenerate: boolean;
  protoDir: string;
  outputDir: string;
  /** Prefix for generated package names (kept for parity; ts-proto uses the proto package). */
  packagePrefix: string;
}

/** `grpc.auth`: the guide's GRPCAuthConfig. */
export interface GrpcAuthConfig {
  enabled: boolean;
  /** Every method needs a valid token, except health, reflection and public methods. */
  requireAuth: boolean;
  jwtAlgorithm: JwtAlgorithm;
  /** HS* secret. Env: CFG_JWT_SECRET; falls back to the project secret (CFG_SECRET_KEY or var/secret_key). */
  jwtSecretKey: string | null;
  /** RS/ES public key, PEM text or a path to a PEM file. Env: CFG_JWT_PUBLIC_KEY. */
  jwtPublicKey: string | null;
  /** RS/ES private key for `cfg token`, PEM text or path. Env: CFG_JWT_PRIVATE_KEY. */
  jwtPrivateKey: string | null;
  /** Check exp (and the two settings below). false accepts expired tokens, and tokens without exp, whatever else is set. Default true. */
  jwtVerifyExp: boolean;
  /** Clock skew allowed on exp/nbf (and on the lifetime below), in seconds. */
  jwtLeeway: number;
  /**
   * Accept access tokens that carry no exp claim: such a token never expires. Default false: it
   * is UNAUTHENTICATED "Token has no exp claim".
   */
  allowTokensWithoutExp: boolean;
  /**
   * The longest token lifetime accepted, in seconds: a token whose exp lies further than this
   * after its iat (after now, when it has no iat or one in the future) is UNAUTHENTICATED, so a
   * leaked token is not valid for months. `cfg token --ttl` cannot exceed it. Default 86400 (1 day).
   */
  maxTokenLifetimeSeconds: number;
  tokenHeader: string;
  tokenPrefix: string;
  /** Full method names ("/pkg.Service/Method") that need no token (never one whose class declares other access). */
  publicMethods: string[];
  /** How long a verified token's user is cached. 0 turns the cache off. Default 30000 ms. */
  userCacheTtlMs: number;
  /** Metadata key carrying an API key ("x-api-key"); "" turns API keys off. */
  apiKeyHeader: string;
  /**
   * How often a server re-checks the API keys it holds in its cache against the database, so that
   * a key revoked or expired by another process (cfg apikey revoke) is refused within this bound.
   * A revocation in the server's own process takes effect at once. Default 1000 ms.
   */
  apiKeyRecheckMs: number;
}

/** `grpc.requestLog`: every call recorded in grpc_request_log, written in batches off the call path. */
export interface RequestLogConfig {
  /** Default false. Env: CFG_REQUEST_LOG=1|0. */
  enabled: boolean;
  /** Fraction of calls recorded, 0..1. Default 1 (every call). */
  sampleRate: number;
  /** Rows per write (one transaction); a full batch is written at once. Default 500. */
  batchSize: number;
  /** A partial batch is written after at most this long. Default 1000 ms. */
  flushIntervalMs: number;
  /**
   * Records held in memory while the database is behind (the queue bound); past it, new records
   * are dropped, counted (cfg_request_log_dropped_total) and reported once per 10 s. Default 50000.
   */
  maxPending: number;
}

/** `grpc.monitor`: each server records itself in grpc_server and beats every heartbeatMs. */
export interface MonitorConfig {
  /** Default true. */
  enabled: boolean;
  /** Heartbeat interval; a server silent for 3 intervals is listed as down. Default 10000 ms. */
  heartbeatMs: number;
}

/** `grpc.http`: the HTTP side port (Prometheus metrics, JSON operations API, dashboard). Off by default. */
export interface GrpcHttpConfig {
  /** Serve the side port, started and stopped with the gRPC server. Default false. Env: CFG_HTTP=1. */
  enabled: boolean;
  /** Address to bind. Default "127.0.0.1" (operators reach it through the host or a proxy). Env: CFG_HTTP_HOST. */
  host: string;
  /** Port to bind; 0 picks a free one. Default 8090. Env: CFG_HTTP_PORT. */
  port: number;
  /** Serve /metrics without credentials (a scraper on a private network). Default false: staff token or staff API key. */
  publicMetrics: boolean;
  /** A connection must send a request's headers within this long (node:http headersTimeout), or it is closed with 408. Default 10000 ms. */
  headersTimeoutMs: number;
  /** Close a keep-alive connection with no request for this long (node:http keepAliveTimeout). Default 5000 ms. */
  idleTimeoutMs: number;
  /** Most connections open at once on the side port; further ones are closed at once (one warning per 10 s). Default 100. */
  maxConnections: number;
}

export interface GrpcConfig {
  enabled: boolean;
  server: GrpcServerConfig;
  http: GrpcHttpConfig;
  /** Scan `enabledApps` for service modules. */
  autoRegisterApps: boolean;
  /** App labels (folders under apps/), never dotted paths. */
  enabledApps: string[];
  /** label -> "apps/crypto/grpc_services#CryptoService" (module path relative to the project, then the export). */
  customServices: Record<string, string>;
  /** "api/urls#grpcHandlers": a function called with the server to register services by hand. */
  handlersHook: string | null;
  proto: GrpcProtoConfig;
  auth: GrpcAuthConfig;
  requestLog: RequestLogConfig;
  monitor: MonitorConfig;
}

export interface DatabaseConfig {
  /** "file:./var/cfg.sqlite3" (SQLite, the default) or "postgresql://...". Env: DATABASE_URL. */
  url: string;
  /** PostgreSQL pool size. Default: grpc.server.maxWorkers. */
  poolSize: number | null;
}

export interface LoggingConfig {
  level: LogLevel;
  /** "auto": coloured on a terminal, JSON otherwise. Env: CFG_LOG_FORMAT. */
  format: LogFormat | 'auto';
  levels: Record<string, LogLevel>;
  /** One line per call (method, status, duration, peer). */
  logCalls: boolean;
}

/** The fully defaulted, validated and frozen configuration. */
export interface CfgConfig {
  /** Project root: the folder holding cfg.config.ts. */
  root: string;
  grpc: GrpcConfig;
  database: DatabaseConfig;
  logging: LoggingConfig;
}

type DeepPartial<T> = T extends (infer U)[]
  ? U[]
  : T extends Record<string, unknown> | object
    ? T extends (...args: never[]) => unknown
      ? T
      : { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** What a project writes in cfg.config.ts: every field optional. */
export interface UserConfig {
  grpc?: DeepPartial<GrpcConfig>;
  database?: Partial<DatabaseConfig>;
  logging?: Partial<LoggingConfig>;
}
