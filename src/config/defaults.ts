import type { CfgConfig } from './types.ts';

const MiB = 1024 * 1024;

/** The guide's defaults, and cfg's for what the guide does not set. */
export function defaults(root: string): CfgConfig {
  return {
    root,
    grpc: {
      enabled: true,
      server: {
        host: '[::]',
        port: 50051,
        maxWorkers: 10,
        processes: 1,
        enableReflection: true,
        enableHealthCheck: true,
        shutdownGraceMs: 10_000,
        compression: 'none',
        maxReceiveMessageLength: 4 * MiB,
        maxSendMessageLength: 4 * MiB,
        keepaliveTimeMs: 2 * 60 * 60 * 1000,
        keepaliveTimeoutMs: 20_000,
        maxConnectionAgeMs: 0,
        handshakeTimeoutMs: 10_000,
        maxConnectionIdleMs: 5 * 60 * 1000,
        maxConnections: 5000,
        maxConcurrentStreams: 100,
        interceptors: [],
        tracing: false,
        tls: null,
      },
      http: { enabled: false, host: '127.0.0.1', port: 8090, publicMetrics: false, headersTimeoutMs: 10_000, idleTimeoutMs: 5000, maxConnections: 100 },
      autoRegisterApps: true,
      enabledApps: [],
      customServices: {},
      handlersHook: null,
      proto: { autoGenerate: true, protoDir: 'proto', outputDir: 'generated', packagePrefix: '' },
      auth: {
        enabled: true,
        requireAuth: false,
        jwtAlgorithm: 'HS256',
        jwtSecretKey: null,
        jwtPublicKey: null,
        jwtPrivateKey: null,
        jwtVerifyExp: true,
        jwtLeeway: 0,
        allowTokensWithoutExp: false,
        maxTokenLifetimeSeconds: 86_400,
        tokenHeader: 'authorization',
        tokenPrefix: 'Bearer',
        publicMethods: ['/grpc.health.v1.Health/Check', '/grpc.health.v1.Health/Watch'],
        userCacheTtlMs: 30_000,
        apiKeyHeader: 'x-api-key',
        apiKeyRecheckMs: 1000,
      },
      requestLog: { enabled: false, sampleRate: 1, batchSize: 500, flushIntervalMs: 1000, maxPending: 50_000 },
      monitor: { enabled: true, heartbeatMs: 10_000 },
    },
    database: { url: 'file:./var/cfg.sqlite3', poolSize: null },
    logging: { level: 'info', format: 'auto', levels: {}, logCalls: true },
  };
}
