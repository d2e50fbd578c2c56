// The configuration's types, all read from the schema (schema.ts and the section files), where
// each setting's doc comment is: hovering a field here or in cfg.config.ts shows it.
import type { input, output } from 'zod';
import type { configSchema, database, logging } from './schema.ts';
import type { JWT_ALGORITHMS, grpcAuth } from './schema-auth.ts';
import type { grpc, grpcHttp, grpcProto, grpcWeb, monitor, requestLog } from './schema-grpc.ts';
import type { events } from './schema-events.ts';
import type { grpcServer } from './schema-server.ts';

export { JWT_ALGORITHMS } from './schema-auth.ts';
export type { ConfigInterceptor } from './interceptor.ts';

/** The fully defaulted, validated and frozen configuration. */
export interface CfgConfig extends output<typeof configSchema> {
  /** Project root: the folder holding cfg.config.ts. */
  root: string;
}

/** What a project writes in cfg.config.ts: every field optional, no other key allowed. */
export interface UserConfig extends input<typeof configSchema> {}

export interface GrpcConfig extends output<typeof grpc> {}
/** `grpc.server`: the guide's GRPCServerConfig, plus transport settings. */
export interface GrpcServerConfig extends output<typeof grpcServer> {}
/** `grpc.http`: the HTTP side port (Prometheus metrics, JSON operations API, dashboard). Off by default. */
export interface GrpcHttpConfig extends output<typeof grpcHttp> {}
/** `grpc.web`: gRPC-Web and Connect for browsers and HTTP clients, on a port of their own. Off by default. */
export interface GrpcWebConfig extends output<typeof grpcWeb> {}
/** `grpc.proto`: the guide's GRPCProtoConfig. */
export interface GrpcProtoConfig extends output<typeof grpcProto> {}
/** `grpc.auth`: the guide's GRPCAuthConfig. */
export interface GrpcAuthConfig extends output<typeof grpcAuth> {}
/** `grpc.requestLog`: every call recorded in grpc_request_log, written in batches off the call path. */
export interface RequestLogConfig extends output<typeof requestLog> {}
/** `grpc.monitor`: each server records itself in grpc_server and beats every heartbeatMs. */
export interface MonitorConfig extends output<typeof monitor> {}
export interface DatabaseConfig extends output<typeof database> {}
export interface LoggingConfig extends output<typeof logging> {}
/** `events`: the channel between the processes of a deployment (docs/events.md). */
export interface EventsConfig extends output<typeof events> {}

/** JWT algorithms cfg accepts; tokens are verified with exactly the configured one. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
export type Compression = GrpcServerConfig['compression'];
