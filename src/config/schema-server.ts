// grpc.server: the guide's GRPCServerConfig, plus transport settings. Each setting once: its doc,
// its check (checks.ts), its default, and the environment variable that overrides it, if any.
import { bool, int, interceptorEntry, list, nonEmpty, oneOf, section } from './checks.ts';
import { env, settingMeta } from './meta.ts';
import { z } from './zod.ts';

const MiB = 1024 * 1024;
const MIN_MSG = 1024;
const MAX_MSG = 100 * MiB;
const INT32 = 2 ** 31 - 1;

/** What a bad grpc.server.tls must be instead, given what it is. */
function tlsExpected(v: unknown): string {
  if (typeof v !== 'object' || v === null) return 'null or { cert, key, clientCa? } (PEM file paths)';
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !['cert', 'key', 'clientCa'].includes(k));
  if (extra.length) return `{ cert, key, clientCa? } without ${extra.join(', ')}`;
  if (typeof o.cert !== 'string' || typeof o.key !== 'string') return '{ cert, key } as PEM file paths';
  return 'clientCa as a PEM file path';
}

/** A process count from 1 to 256, or "auto" (one per core). */
function processCount() {
  const expected = 'an integer from 1 to 256, or "auto"';
  return z.union([int(1, 256, expected), z.literal('auto', { error: expected })], { error: expected });
}

const tlsFiles = z.strictObject({ cert: z.string(), key: z.string(), clientCa: z.string().optional() });

export const grpcServer = section({
  /** Address to bind. Default "[::]" (all interfaces, IPv4 and IPv6). Env: CFG_GRPC_HOST. */
  host: env('CFG_GRPC_HOST', nonEmpty().default('[::]')),
  /** Port to bind; 0 picks a free one. Default 50051. Env: CFG_GRPC_PORT. */
  port: env('CFG_GRPC_PORT', int(0, 65535).default(50051)),
  /**
   * Most unary and client-streaming calls one process runs at once (a thread pool in Python;
   * here a bound on in-flight calls). Calls past it wait in order, up to 100 x maxWorkers of
   * them, then get RESOURCE_EXHAUSTED. Server-streaming and bidi calls are not counted (an idle
   * stream holds no thread on Node). Per process: see `processes`. Default 10. Env: CFG_GRPC_MAX_WORKERS.
   */
  maxWorkers: env('CFG_GRPC_MAX_WORKERS', int(1, 100_000).default(10)),
  /** Processes serving the port (node:cluster); "auto" means one per core. Default 1. Env: CFG_GRPC_PROCESSES. */
  processes: env('CFG_GRPC_PROCESSES', processCount().default(1)),
  /** Serve reflection: grpc.reflection.v1 and v1alpha. Default true. */
  enableReflection: bool().default(true),
  /** Serve grpc.health.v1 Check and Watch. Default true. */
  enableHealthCheck: bool().default(true),
  /** How long shutdown waits for in-flight calls before cancelling them. Default 10000 ms. */
  shutdownGraceMs: int(0, 3_600_000).default(10_000),
  /**
   * Response compression: "gzip" or "deflate" compresses every response message of a call whose
   * client lists that algorithm in grpc-accept-encoding (grpc-js and grpcio clients list both);
   * other clients get identity. Compressed requests (gzip, deflate) are always accepted, their
   * inflated size checked against maxReceiveMessageLength. Default "none".
   */
  compression: oneOf(['none', 'gzip', 'deflate']).default('none'),
  /** Largest request accepted, in bytes (1 KiB to 100 MiB). Default 4 MiB. */
  maxReceiveMessageLength: int(MIN_MSG, MAX_MSG).default(4 * MiB),
  /** Largest response sent, in bytes (1 KiB to 100 MiB). Default 4 MiB. */
  maxSendMessageLength: int(MIN_MSG, MAX_MSG).default(4 * MiB),
  /** HTTP/2 keepalive ping interval. Default 2 h. */
  keepaliveTimeMs: int(1000, INT32).default(2 * 60 * 60 * 1000),
  /** How long to wait for the ping's answer. Default 20 s. */
  keepaliveTimeoutMs: int(100, INT32).default(20_000),
  /** Close connections older than this (lets load balancers rebalance); 0 means never. Default 0. */
  maxConnectionAgeMs: int(0, INT32).default(0),
  /**
   * A new connection must send the HTTP/2 preface and SETTINGS within this long, or it is closed
   * (with TLS: finish the TLS handshake within this long, then the preface within this long). A
   * peer that does not close its end within this long after the server closed the connection
   * (idle, age, shutdown) is cut off. Default 10000 ms.
   */
  handshakeTimeoutMs: int(100, 600_000).default(10_000),
  /** Close a connection that has had no open call for this long (grpc-js max_connection_idle_ms); 0 means never. Default 300000 ms (5 min). */
  maxConnectionIdleMs: int(0, INT32).default(5 * 60 * 1000),
  /**
   * Most connections one process holds open on the gRPC port; further ones are closed at once and
   * counted in one warning per 10 s. Keep it under the process's descriptor limit (ulimit -n).
   * Per process: see `processes`. Default 5000.
   */
  maxConnections: int(1, 1_000_000).default(5000),
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients: calls open at once on one connection. Default 100. */
  maxConcurrentStreams: int(1, INT32).default(100),
  /**
   * The project's interceptors: module references "path/to/file#export" or interceptor objects.
   * They run innermost, after auth, in the order listed (docs/services.md "Interceptors").
   */
  interceptors: list(interceptorEntry()).default([]),
  /** An OpenTelemetry span per call (needs an SDK registered by the application). Default false. */
  tracing: bool().default(false),
  /** TLS: PEM file paths. With `clientCa`, clients must present a certificate (mutual TLS). Default null (plaintext). */
  tls: tlsFiles.nullable().default(null).register(settingMeta, { expected: tlsExpected }),
});
