// The public API of cfg: what an app author writes against. The rest is under subpaths
// (package.json "exports", files in src/exports/): cfg-grpc/server to compose a server of one's own,
// cfg-grpc/db for the database, cfg-grpc/ops for operations, cfg-grpc/testing for tests.
// Nothing inside src/ imports this file or src/exports/.

/** Configuration: `export default defineConfig({ ... })` in cfg.config.ts, and its types. */
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
  EventsConfig,
} from './config/types.ts';

/** Services: the base classes an app's service extends, and the method shapes they implement. */
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

/** Events between the processes of a deployment: `this.events` in a service (docs/events.md). */
export { defineTopic } from './events/topic.ts';
export type { Topic, TopicData } from './events/topic.ts';
export type { EventChannel, EventBackend, ChannelState, StateChange, EventStats } from './events/channel.ts';

/** Registration: what an app's grpcHandlers returns. */
export { addToServer, registration } from './services/registration.ts';
export type { AddToServer, GrpcHandlers, ServiceClass, ServiceRegistrar, ServiceRegistration } from './services/registration.ts';

/** Calls: the status a call ends with, the call context, who may call, custom interceptors. */
export { GrpcError, Status, statusName } from './call/error.ts';
/** The status an error would end a call with (a GrpcError as it is, a mapped database error, or INTERNAL). */
export { classify } from './call/boundary.ts';
export type { MetadataRecord, MetadataValue } from './call/error.ts';
export type { CallContext, RequestMetadata } from './call/context.ts';
export { createContextKey } from './call/values.ts';
export type { ContextKey, ContextValues } from './call/values.ts';
export type { MethodInfo, MethodKind } from './call/method.ts';
export type { Access, AccessOf, MethodAccess } from './call/access.ts';
export type { AuthUser, AuthInfo } from './auth/types.ts';
export { CALLER, userOf, authOf } from './auth/caller.ts';
export type { Caller } from './auth/caller.ts';
export type { CallEnd, Interceptor, Next } from './call/interceptor.ts';

/** Clients: typed clients for generated definitions, their middleware, resumable streams. */
export { createClient } from './client/create-client.ts';
export type { TypedClient, ClientMethod, ClientCallOptions, ClientOptions, ClientError, ParentCall } from './client/create-client.ts';
export { idempotentMethods } from './client/idempotency.ts';
export { authRefreshMiddleware, loggingMiddleware, metadataMiddleware } from './client/middleware.ts';
export type { ClientCall, ClientCallEnd, ClientMiddleware, FreshToken } from './client/middleware.ts';
export type { RetryOptions } from './client/service-config.ts';
export { resumable } from './client/resume.ts';
export type { ResumeOptions } from './client/resume.ts';

/** Logging and cfg's own failures (every code: ERROR_CODES in src/errors.ts). */
export { getLogger } from './log/logger.ts';
export type { Logger, LogLevel } from './log/logger.ts';
export { CfgError } from './errors.ts';
export type { CfgErrorCode } from './errors.ts';
