// The public API of cfg. Nothing inside src/ imports this file.
export { defineConfig } from './config/define-config.ts';
export type {
  CfgConfig,
  UserConfig,
  GrpcConfig,
  GrpcServerConfig,
  GrpcProtoConfig,
  GrpcAuthConfig,
  GrpcHttpConfig,
  DatabaseConfig,
  LoggingConfig,
  JwtAlgorithm,
  RequestLogConfig,
  MonitorConfig,
} from './config/types.ts';
export { loadConfig } from './config/load.ts';
export { resolveConfig } from './config/resolve.ts';
export { BaseService } from './services/base-service.ts';
export { ReadOnlyService, ReadOnlyViolation } from './services/read-only-service.ts';
export { AuthRequiredService } from './services/auth-required-service.ts';
export type {
  ServiceDefinition,
  ServiceImplementation,
  MethodImplementation,
  UnaryMethod,
  ServerStreamMethod,
  ClientStreamMethod,
  BidiStreamMethod,
  StreamWriter,
} from './services/types.ts';
export { addToServer, registration } from './services/registration.ts';
export type { AddToServer, GrpcHandlers, ServiceClass, ServiceRegistrar, ServiceRegistration } from './services/registration.ts';
export type { CallContext } from './call/context.ts';
export type { MethodInfo, MethodKind } from './call/method.ts';
export type { Access, AccessOf, MethodAccess } from './call/access.ts';
export { GrpcError, Status, statusName } from './call/error.ts';
export type { CallEnd, Interceptor, Next } from './call/interceptor.ts';
export { PIPELINE, buildInterceptors } from './interceptors/pipeline.ts';
export type { PipelineSlot, PipelineOptions } from './interceptors/pipeline.ts';
export { classify } from './call/boundary.ts';
export { CfgServer } from './server/cfg-server.ts';
export type { ServedService } from './services/host.ts';
export { startServer } from './server/start.ts';
export type { RunningServer, StartOptions } from './server/start.ts';
export type { AuthUser, AuthInfo } from './auth/types.ts';
export { invalidateUser, clearAuthCache } from './auth/cache.ts';
export { getLogger } from './log/logger.ts';
export type { Logger, LogLevel } from './log/logger.ts';
export { CfgError } from './errors.ts';
export type { CfgErrorCode } from './errors.ts';
export { createClient } from './client/create-client.ts';
export type { TypedClient, ClientMethod, ClientCallOptions, ClientOptions, ClientError, ParentCall } from './client/create-client.ts';
export { idempotentMethods } from './client/idempotency.ts';
export { authRefreshMiddleware, loggingMiddleware, metadataMiddleware } from './client/middleware.ts';
export type { ClientCall, ClientCallEnd, ClientMiddleware, FreshToken } from './client/middleware.ts';
export type { RetryOptions } from './client/service-config.ts';
export { resumable } from './client/resume.ts';
export type { ResumeOptions } from './client/resume.ts';
export { tracing } from './interceptors/tracing.ts';
export { getDb, closeDb, createDb, getDataVersion } from './db/client.ts';
export type { DataVersion } from './db/data-version.ts';
export type { Db, CreateDbOptions } from './db/client.ts';
export type { SeedFn } from './db/seed.ts';
export { createApiKey, listApiKeys, revokeApiKey, hashApiKey } from './auth/api-keys.ts';
export type { Acting, ApiKeyInfo } from './auth/api-keys.ts';
export { actingForDenied, MANAGE_API_KEYS } from './auth/acting-for.ts';
export { invalidateApiKey } from './auth/cache.ts';
export { listServers, recentCalls, methodStats, pruneRequestLog, pruneServers, DEFAULT_HEARTBEAT_MS } from './ops/queries.ts';
export type { ServerInfo, ServerStatus, RequestLogEntry, RecentCallsOptions, MethodStats, MethodStatsOptions } from './ops/queries.ts';
export { callMetrics, LATENCY_BUCKETS } from './interceptors/metrics.ts';
export type { CallMetrics } from './interceptors/metrics.ts';
export { poolStats, sqlDriver } from './db/client.ts';
export type { PoolStats, SqlDriver } from './db/client.ts';
export type { HttpSidePort } from './http/server.ts';
export type { ServiceView } from './http/api-services.ts';
