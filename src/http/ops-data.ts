// The operations data the HTTP side port shows, read from the request log (grpc_request_log),
// the server monitor (grpc_server) and the API keys (grpc_api_key). Every endpoint reads through
// these functions only: the API keys are src/auth/api-keys.ts's; the request log and server
// monitor readers are here until src/ops/ provides them.
import { hashApiKey } from '../auth/api-keys.ts';
import type { Db } from '../db/client.ts';

/** A cfg server as the monitor records it; "down" when its heartbeat is stale. */
export interface ServerInfo {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly address: string;
  readonly version: string;
  readonly services: readonly string[];
  readonly startedAt: Date;
  readonly lastHeartbeat: Date;
  readonly status: string;
}

/** One row of the request log. */
export interface CallRecord {
  readonly id: string;
  readonly createdAt: Date;
  readonly service: string;
  readonly method: string;
  readonly code: number;
  readonly durationMs: number;
  readonly peer: string | null;
  readonly userId: number | null;
  readonly username: string | null;
  readonly apiKeyId: number | null;
  readonly error: string | null;
}

export interface CallFilter {
  service?: string;
  method?: string;
  code?: number;
  userId?: number;
  limit: number;
}

/** Calls, errors and latency percentiles of one method over a window. */
export interface MethodStat {
  readonly service: string;
  readonly method: string;
  readonly calls: number;
  readonly errors: number;
  readonly errorRate: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}


/** A server whose heartbeat is older than this is shown as down. */
export const STALE_AFTER_MS = 30_000;

export async function listServers(db: Db): Promise<ServerInfo[]> {
  const rows = await db.serverInstance.findMany({ orderBy: { startedAt: 'desc' } });
  const now = Date.now();
  return rows.map((r) => ({
    ...r,
    services: r.services ? r.services.split(',') : [],
    status: r.status !== 'stopped' && now - r.lastHeartbeat.getTime() > STALE_AFTER_MS ? 'down' : r.status,
  }));
}

export async function recentCalls(db: Db, filter: CallFilter): Promise<CallRecord[]> {
  const rows = await db.requestLog.findMany({
    where: { service: filter.service, method: filter.method, code: filter.code, userId: filter.userId },
    orderBy: { createdAt: 'desc' },
    take: filter.limit,
  });
  const ids = [...new Set(rows.map((r) => r.userId).filter((id): id is number => id !== null))];
  const users = ids.length ? await db.user.findMany({ where: { id: { in: ids } }, select: { id: true, username: true } }) : [];
  const names = new Map(users.map((u) => [u.id, u.username]));
  return rows.map((r) => ({
    id: r.id,
    createdAt: r.createdAt,
    service: r.service,
    method: r.method,
    code: r.code,
    durationMs: r.durationMs,
    peer: r.peer,
    userId: r.userId,
    username: r.userId === null ? null : (names.get(r.userId) ?? null),
    apiKeyId: r.apiKeyId,
    error: r.error,
  }));
}

/** The value below which `q` of the sorted values fall (nearest rank). */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export async function methodStats(db: Db, options: { windowMs: number }): Promise<MethodStat[]> {
  const rows = await db.requestLog.findMany({
    where: { createdAt: { gte: new Date(Date.now() - options.windowMs) } },
    select: { service: true, method: true, code: true, durationMs: true },
  });
  const groups = new Map<string, { service: string; method: string; errors: number; durations: number[] }>();
  for (const r of rows) {
    const key = `${r.service}/${r.method}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { service: r.service, method: r.method, errors: 0, durations: [] }));
    if (r.code !== 0) g.errors++;
    g.durations.push(r.durationMs);
  }
  return [...groups.values()]
    .map((g) => {
      const sorted = g.durations.sort((a, b) => a - b);
      const calls = sorted.length;
      return { service: g.service, method: g.method, calls, errors: g.errors, errorRate: g.errors / calls, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
    })
    .sort((a, b) => a.service.localeCompare(b.service) || a.method.localeCompare(b.method));
}

export { createApiKey, listApiKeys, revokeApiKey, type ApiKeyInfo } from '../auth/api-keys.ts';

/** The owner of an active, unexpired key, or null. */
export async function apiKeyOwner(db: Db, key: string): Promise<{ userId: number; keyId: number } | null> {
  const row = await db.apiKey.findUnique({ where: { keyHash: hashApiKey(key) }, select: { id: true, userId: true, isActive: true, expiresAt: true } });
  if (!row || !row.isActive || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return null;
  return { userId: row.userId, keyId: row.id };
}
