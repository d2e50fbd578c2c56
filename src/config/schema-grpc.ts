// grpc: the guide's GRPCConfig, and its smaller sections (http, proto, requestLog, monitor). Each
// setting once: its doc, its check (checks.ts), its default, and the environment variable that
// overrides it, if any.
import { appLabel, bool, int, list, moduleRef, nonEmpty, pattern, record, section, uniqueList } from './checks.ts';
import { env } from './meta.ts';
import { grpcAuth } from './schema-auth.ts';
import { grpcServer } from './schema-server.ts';
import { z } from './zod.ts';

export const grpcHttp = section({
  /** Serve the side port, started and stopped with the gRPC server. Default false. Env: CFG_HTTP=1. */
  enabled: env('CFG_HTTP', bool().default(false)),
  /** Address to bind. Default "127.0.0.1" (operators reach it through the host or a proxy). Env: CFG_HTTP_HOST. */
  host: env('CFG_HTTP_HOST', nonEmpty().default('127.0.0.1')),
  /** Port to bind; 0 picks a free one. Default 8090. Env: CFG_HTTP_PORT. */
  port: env('CFG_HTTP_PORT', int(0, 65535).default(8090)),
  /** Serve /metrics without credentials (a scraper on a private network). Default false: staff token or staff API key. */
  publicMetrics: bool().default(false),
  /** A connection must send a request's headers within this long (node:http headersTimeout), or it is closed with 408. Default 10000 ms. */
  headersTimeoutMs: int(100, 600_000).default(10_000),
  /** Close a keep-alive connection with no request for this long (node:http keepAliveTimeout). Default 5000 ms. */
  idleTimeoutMs: int(100, 600_000).default(5000),
  /** Most connections open at once on the side port; further ones are closed at once (one warning per 10 s). Default 100. */
  maxConnections: int(1, 100_000).default(100),
});

export const webCors = section({
  /**
   * Origins whose pages may call the web listener from a browser: "https://app.example.com"
   * (scheme, host, port), "https://*.example.com" (any subdomain), or "*" (any origin). A request
   * or preflight from an origin not listed is refused (403) and runs nothing. Default [] (no
   * browser page on another origin; curl and servers, which send no Origin, are not affected).
   * Env: CFG_WEB_CORS_ORIGINS (comma-separated).
   */
  allowedOrigins: env(
    'CFG_WEB_CORS_ORIGINS',
    list(
      pattern(/^(\*|https?:\/\/(\*\.)?[^/\s*]+)$/, 'an origin "https://app.example.com" (no path), "https://*.example.com" or "*"'),
    ).default([]),
  ),
  /**
   * Request headers a page may send besides the ones cfg always allows (content-type, the
   * Connect and gRPC-Web headers, the token and API key headers, traceparent). Default [].
   */
  allowedHeaders: list(pattern(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'a header name ("x-request-id")')).default([]),
  /** How long a browser may cache a preflight's answer (Access-Control-Max-Age), in seconds. Default 7200. */
  maxAgeSeconds: int(0, 86_400).default(7200),
});

export const grpcWeb = section({
  /**
   * Serve the app's services to browsers and HTTP clients: gRPC-Web and Connect (JSON or binary)
   * on a port of their own, over HTTP/1.1, h2c, and TLS when grpc.server.tls is set. The same
   * services, interceptors, auth and limits as the gRPC port. Default false. Env: CFG_WEB=1.
   */
  enabled: env('CFG_WEB', bool().default(false)),
  /** Address to bind. Default "[::]" (like the gRPC port). Env: CFG_WEB_HOST. */
  host: env('CFG_WEB_HOST', nonEmpty().default('[::]')),
  /** Port to bind; 0 picks a free one. Default 8080. Env: CFG_WEB_PORT. */
  port: env('CFG_WEB_PORT', int(0, 65535).default(8080)),
  /** `grpc.web.cors`: which browser pages may call. */
  cors: webCors.prefault({}),
  /**
   * A request must send its headers within this long, and its whole body within requestTimeoutMs,
   * or it is answered 408 (HTTP/1.1) or reset (HTTP/2) and its connection closed. Default 10000 ms.
   */
  headersTimeoutMs: int(100, 600_000).default(10_000),
  /** The whole request (headers and body) must arrive within this long. Default 30000 ms. */
  requestTimeoutMs: int(100, 3_600_000).default(30_000),
  /** Close a connection with no request in flight for this long. Default 60000 ms. */
  idleTimeoutMs: int(100, 3_600_000).default(60_000),
  /** Most connections open at once on the web port per process; further ones are closed at once (one warning per 10 s). Default 5000. */
  maxConnections: int(1, 1_000_000).default(5000),
});

export const grpcProto = section({
  /** Run generate-proto on rungrpc when stubs are missing or older than the protos. Default true. */
  autoGenerate: bool().default(true),
  /** Relative to the project root; `--proto-dir` overrides. Default "proto". */
  protoDir: nonEmpty().default('proto'),
  /** Relative to the project root; `--output-dir` overrides. Default "generated". */
  outputDir: nonEmpty().default('generated'),
  /** Prefix for generated package names (kept for parity; ts-proto uses the proto package). Default "". */
  packagePrefix: pattern(/^([A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?$/, 'a proto package name ("api", "acme.api") or ""').default(''),
  /**
   * Also emit ECMAScript messages and service descriptors for browsers (protoc-gen-es) into
   * `<outputDir>/es/`, for @connectrpc/connect-web clients; `--es` / `--no-es` override. Default false.
   */
  es: bool().default(false),
});

/** A number from 0 to 1. */
function fraction() {
  const e = { error: 'a number from 0 to 1 (the fraction of calls recorded)' };
  return z.number(e).check(z.gte(0, e), z.lte(1, e));
}

export const requestLog = section({
  /** Default false. Env: CFG_REQUEST_LOG=1|0. */
  enabled: env('CFG_REQUEST_LOG', bool().default(false)),
  /** Fraction of calls recorded, 0..1. Default 1 (every call). */
  sampleRate: fraction().default(1),
  /** Rows per write (one transaction); a full batch is written at once. Default 500. */
  batchSize: int(1, 5000).default(500),
  /** A partial batch is written after at most this long. Default 1000 ms. */
  flushIntervalMs: int(10, 3_600_000).default(1000),
  /**
   * Records held in memory while the database is behind (the queue bound); past it, new records
   * are dropped, counted (cfg_request_log_dropped_total) and reported once per 10 s. Default 50000.
   */
  maxPending: int(1, 10_000_000).default(50_000),
});

export const monitor = section({
  /** Default true. */
  enabled: bool().default(true),
  /** Heartbeat interval; a server silent for 3 intervals is listed as down. Default 10000 ms. */
  heartbeatMs: int(100, 3_600_000).default(10_000),
});

export const grpc = section({
  /** Serve gRPC at all. Default true. */
  enabled: bool().default(true),
  /** `grpc.server`: the guide's GRPCServerConfig, plus transport settings. */
  server: grpcServer.prefault({}),
  /** `grpc.http`: the HTTP side port (Prometheus metrics, JSON operations API, dashboard). Off by default. */
  http: grpcHttp.prefault({}),
  /** Scan `enabledApps` for service modules. Default true. */
  autoRegisterApps: bool().default(true),
  /** App labels (folders under apps/), never dotted paths. Default []. */
  enabledApps: uniqueList(appLabel()).default([]),
  /** label -> "apps/crypto/grpc_services#CryptoService" (module path relative to the project, then the export). Default {}. */
  customServices: record('an object { label: "path/to/module#ExportName" }', moduleRef()).default({}),
  /** "api/urls#grpcHandlers": a function called with the server to register services by hand. Default null. */
  handlersHook: moduleRef().nullable().default(null),
  /** `grpc.web`: gRPC-Web and Connect for browsers and HTTP clients, on a port of their own. Off by default. */
  web: grpcWeb.prefault({}),
  /** `grpc.proto`: the guide's GRPCProtoConfig. */
  proto: grpcProto.prefault({}),
  /** `grpc.auth`: the guide's GRPCAuthConfig. */
  auth: grpcAuth.prefault({}),
  /** `grpc.requestLog`: every call recorded in grpc_request_log, written in batches off the call path. */
  requestLog: requestLog.prefault({}),
  /** `grpc.monitor`: each server records itself in grpc_server and beats every heartbeatMs. */
  monitor: monitor.prefault({}),
});
