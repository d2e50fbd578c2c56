// What the operations views read: the servers on this database and the request log. Every
// function takes a database handle (Db) and works the same on SQLite and PostgreSQL.
import type { Db } from '../db/client.ts';
import { statusName } from '../call/error.ts';

/** grpc.monitor.heartbeatMs's default: a server beats every 10 s. */
export const DEFAULT_HEARTBEAT_MS = 10_000;
/** A serving server whose last beat is older than this many intervals is "down". */
export const MISSED_BEATS = 3;

export type ServerStatus = 'serving' | 'stopped' | 'down';

/** One row of grpc_server, with its status as of `now`. */
export interface ServerInfo {
  /** A random UUID per server (per process, per startServer). */
  id: string;
  host: string;
  pid: number;
  /** "host:port" as bound. */
  address: string;
  /** package.json version of the project. */
  version: string;
  /** Full service names served ("crypto.CryptoService"). */
  services: string[];
  startedAt: Date;
  lastHeartbeat: Date;
  /** "stopped" after a graceful shutdown; "down" when a serving server missed 3 beats (crashed, killed, cut off). */
  status: ServerStatus;
  /** Processes its rungrpc serves with (each cluster worker has a row of its own). */
  processes: number;
  /** Open event subscriptions in that process (WatchPrices streams) at its last beat. */
  subscribers: number;
  /** Its event channel and state at its last beat or change: "postgresql up", "redis down", ... */
  channel: string;
}

/**
 * Every server recorded on this database, newest first. A row still marked serving whose last
 * heartbeat is older than 3 x `heartbeatMs` (the interval the servers use) is reported "down".
 */
export async function listServers(db: Db, now: Date = new Date(), heartbeatMs: number = DEFAULT_HEARTBEAT_MS): Promise<ServerInfo[]> {
  const rows = await db.serverInstance.findMany({ orderBy: [{ startedAt: 'desc' }, { id: 'asc' }] });
  const stale = now.getTime() - MISSED_BEATS * heartbeatMs;
  return rows.map((r) => ({
    ...r,
    services: r.services ? r.services.split(',') : [],
    status: r.status === 'stopped' ? 'stopped' : r.lastHeartbeat.getTime() < stale ? 'down' : 'serving',
  }));
}

/**
 * Deletes the grpc_server rows of servers that are not live and have not beaten since `before`:
 * stopped, or down as listServers() sees it (a serving row silent for 3 x `heartbeatMs` as of
 * `now`). A live server's row is never deleted, however recent `before` is. Returns how many.
 */
export async function pruneServers(
  db: Db,
  before: Date,
  now: Date = new Date(),
  heartbeatMs: number = DEFAULT_HEARTBEAT_MS,
): Promise<number> {
  const stale = new Date(now.getTime() - MISSED_BEATS * heartbeatMs);
  const where = { lastHeartbeat: { lt: before }, OR: [{ status: 'stopped' }, { lastHeartbeat: { lt: stale } }] };
  return (await db.serverInstance.deleteMany({ where })).count;
}

/** One recorded call. */
export interface RequestLogEntry {
  id: string;
  createdAt: Date;
  service: string;
  method: string;
  code: number;
  /** "OK", "NOT_FOUND", ... */
  status: string;
  durationMs: number;
  peer: string | null;
  userId: number | null;
  apiKeyId: number | null;
  /** The status message of a failed call. */
  error: string | null;
  /** Serialized bytes of the request (null for client-streaming and bidi calls). */
  requestSize: number | null;
  /** Serialized bytes of the response (null for server-streaming and bidi calls, and failures). */
  responseSize: number | null;
  serverId: string | null;
  /** "grpc" (the gRPC port), "grpc-web" or "connect" (the web listener). */
  protocol: string;
}

export interface RecentCallsOptions {
  /** "crypto.CryptoService" */
  service?: string;
  /** "GetCoin" */
  method?: string;
  /** A status code (0 = OK). */
  code?: number;
  /** Calls made by this user. */
  userId?: number;
  /** Most rows returned; default 100, at most 1000. */
  limit?: number;
}

/** The latest recorded calls, newest first, optionally for one service, method or status code. */
export async function recentCalls(db: Db, options: RecentCallsOptions = {}): Promise<RequestLogEntry[]> {
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), 1000);
  const rows = await db.requestLog.findMany({
    where: {
      ...(options.service !== undefined ? { service: options.service } : {}),
      ...(options.method !== undefined ? { method: options.method } : {}),
      ...(options.code !== undefined ? { code: options.code } : {}),
      ...(options.userId !== undefined ? { userId: options.userId } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit,
  });
  return rows.map((r) => ({ ...r, status: statusName(r.code) }));
}

/** Per-method figures over a window. */
export interface MethodStats {
  service: string;
  method: string;
  count: number;
  /** Calls that ended with a status other than OK. */
  errors: number;
  /** errors / count, 0..1. */
  errorRate: number;
  /** Median duration, ms (nearest rank). */
  p50Ms: number;
  /** 99th percentile duration, ms (nearest rank). */
  p99Ms: number;
}

export interface MethodStatsOptions {
  /** The window: calls recorded in the last `sinceMs` milliseconds. */
  sinceMs: number;
  /** The end of the window; default now. */
  now?: Date;
  /**
   * Percentiles are computed from at most this many of the window's latest calls (counts and
   * error rates always cover every call). Default 100,000.
   */
  maxSamples?: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Count, error rate, p50 and p99 per method over the last `sinceMs`, busiest first. */
export async function methodStats(db: Db, options: MethodStatsOptions): Promise<MethodStats[]> {
  const end = options.now ?? new Date();
  const since = new Date(end.getTime() - options.sinceMs);
  const window = { createdAt: { gte: since, lte: end } };
  const [counts, errors, samples] = await Promise.all([
    db.requestLog.groupBy({ by: ['service', 'method'], where: window, _count: { _all: true } }),
    db.requestLog.groupBy({ by: ['service', 'method'], where: { ...window, code: { not: 0 } }, _count: { _all: true } }),
    db.requestLog.findMany({
      where: window,
      select: { service: true, method: true, durationMs: true },
      orderBy: { createdAt: 'desc' },
      take: options.maxSamples ?? 100_000,
    }),
  ]);
  const key = (r: { service: string; method: string }) => `${r.service}/${r.method}`;
  const errorsBy = new Map(errors.map((r) => [key(r), r._count._all]));
  const durations = new Map<string, number[]>();
  for (const s of samples) {
    const k = key(s);
    let list = durations.get(k);
    if (!list) durations.set(k, (list = []));
    list.push(s.durationMs);
  }
  return counts
    .map((r) => {
      const count = r._count._all;
      const errs = errorsBy.get(key(r)) ?? 0;
      const sorted = (durations.get(key(r)) ?? []).sort((a, b) => a - b);
      return {
        service: r.service,
        method: r.method,
        count,
        errors: errs,
        errorRate: count ? errs / count : 0,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
      };
    })
    .sort((a, b) => b.count - a.count || key(a).localeCompare(key(b)));
}

/** One method's calls per second and p99 latency over time, in equal buckets. */
export interface MethodSeries {
  service: string;
  method: string;
  /** Oldest first; every bucket of the window, empty ones with 0. */
  points: Array<{ at: Date; callsPerSecond: number; p99Ms: number }>;
}

/**
 * Calls per second and p99 latency per method over the last `sinceMs`, in `buckets` equal steps
 * (the dashboard's small charts). Read from at most `maxSamples` of the window's latest calls:
 * past that, the oldest buckets are undercounted.
 */
export async function methodSeries(
  db: Db,
  options: MethodStatsOptions & { buckets?: number },
): Promise<{ bucketSeconds: number; methods: MethodSeries[] }> {
  const end = options.now ?? new Date();
  const buckets = Math.max(1, Math.min(options.buckets ?? 30, 500));
  const bucketMs = Math.max(1, Math.ceil(options.sinceMs / buckets));
  const since = new Date(end.getTime() - bucketMs * buckets);
  const rows = await db.requestLog.findMany({
    where: { createdAt: { gte: since, lte: end } },
    select: { service: true, method: true, durationMs: true, createdAt: true },
    orderBy: { createdAt: 'desc' },
    take: options.maxSamples ?? 100_000,
  });
  const byMethod = new Map<string, { service: string; method: string; durations: number[][] }>();
  for (const r of rows) {
    const k = `${r.service}/${r.method}`;
    let m = byMethod.get(k);
    if (!m) byMethod.set(k, (m = { service: r.service, method: r.method, durations: Array.from({ length: buckets }, () => []) }));
    const i = Math.min(buckets - 1, Math.floor((r.createdAt.getTime() - since.getTime()) / bucketMs));
    m.durations[i]!.push(r.durationMs);
  }
  const methods = [...byMethod.values()]
    .map((m) => ({
      service: m.service,
      method: m.method,
      points: m.durations.map((d, i) => ({
        at: new Date(since.getTime() + i * bucketMs),
        callsPerSecond: d.length / (bucketMs / 1000),
        p99Ms: percentile(
          d.sort((a, b) => a - b),
          99,
        ),
      })),
    }))
    .sort((a, b) => `${a.service}/${a.method}`.localeCompare(`${b.service}/${b.method}`));
  return { bucketSeconds: bucketMs / 1000, methods };
}

/** Deletes request log rows recorded before `before`; returns how many. */
export async function pruneRequestLog(db: Db, before: Date): Promise<number> {
  return (await db.requestLog.deleteMany({ where: { createdAt: { lt: before } } })).count;
}
