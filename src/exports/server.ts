// cfg-grpc/server: for code that starts or composes a server itself (rungrpc does all of this).
// Nothing inside src/ imports this file.

/** Configuration as rungrpc reads it: cfg.config.ts (loadConfig), or an object (resolveConfig). */
export { loadConfig } from '../config/load.ts';
export type { LoadOptions } from '../config/load.ts';
export { resolveConfig } from '../config/resolve.ts';

/** The server: startServer does what rungrpc does in one process; CfgServer is the bare gRPC server. */
export { startServer } from '../server/start.ts';
export type { RunningServer, StartOptions } from '../server/start.ts';
export { CfgServer } from '../server/cfg-server.ts';
export type { ServedService } from '../services/host.ts';

/** The interceptor chain: its slots in order, the chain a config builds, the built-in tracing interceptor. */
export { PIPELINE, buildInterceptors } from '../interceptors/pipeline.ts';
export type { PipelineSlot, PipelineOptions } from '../interceptors/pipeline.ts';
export { tracing } from '../interceptors/tracing.ts';

/** The event channel a server opens (openEvents), and publishing from outside a server (publishFor: a script, a command). */
export { openEvents, eventsOf, publishFor } from '../events/open.ts';
export { authChanged } from '../auth/events.ts';
export type { AuthChange } from '../auth/events.ts';
