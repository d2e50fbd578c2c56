// cfg-grpc/ops: operations from code: what the HTTP side port and `cfg apikey`, `cfg prunelogs` use.
// Nothing inside src/ imports this file.

/** The request log and the server registry: queries and pruning. */
export { listServers, recentCalls, methodStats, pruneRequestLog, pruneServers, DEFAULT_HEARTBEAT_MS } from '../ops/queries.ts';
export type { ServerInfo, ServerStatus, RequestLogEntry, RecentCallsOptions, MethodStats, MethodStatsOptions } from '../ops/queries.ts';

/** Metrics: the Prometheus interceptor (startServer's `interceptors.metrics` slot) and the database pool's figures. */
export { callMetrics, LATENCY_BUCKETS } from '../interceptors/metrics.ts';
export type { CallMetrics } from '../interceptors/metrics.ts';
export { poolStats } from '../db/client.ts';
export type { PoolStats } from '../db/client.ts';

/** API keys: create, list, revoke (who may act for whom: actingForDenied). */
export { createApiKey, listApiKeys, revokeApiKey, hashApiKey } from '../auth/api-keys.ts';
export type { Acting, ApiKeyInfo } from '../auth/api-keys.ts';
export { actingForDenied, MANAGE_API_KEYS } from '../auth/acting-for.ts';

/** The auth cache: revoke a user's or a key's cached identity at once. */
export { invalidateUser, clearAuthCache, invalidateApiKey } from '../auth/cache.ts';
