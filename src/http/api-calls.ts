import { parseDuration } from '../auth/tokens.ts';
import type { Db } from '../db/client.ts';
import { methodSeries, methodStats, recentCalls, type RecentCallsOptions } from '../ops/queries.ts';
import { Status } from '../call/error.ts';
import { badRequest, intParam, queryParams, type Route } from './router.ts';

const MAX_WINDOW_S = 7 * 86_400;

/** "NOT_FOUND", "not_found" or "5" -> 5. */
function statusParam(raw: string): number {
  if (/^\d+$/.test(raw) && Number(raw) <= 16) return Number(raw);
  const code = (Status as unknown as Record<string, number | undefined>)[raw.toUpperCase()];
  if (typeof code === 'number') return code;
  throw badRequest(
    `status must be a gRPC status name (OK, NOT_FOUND, UNAUTHENTICATED, ...) or a code from 0 to 16 (got ${JSON.stringify(raw)}).`,
  );
}

/**
 * GET /api/calls?service=&method=&status=&user=&limit=: the newest calls of the request log,
 * newest first. `service` is the full name ("crypto.CryptoService"), `method` the RPC name
 * ("GetCoin"), `status` a name or code, `user` a username or user id, `limit` 1 to 1000 (100).
 */
export function callsRoute(db: Db): Route {
  return {
    method: 'GET',
    path: '/api/calls',
    access: 'staff',
    async handle(req) {
      const q = queryParams(req, ['service', 'method', 'status', 'user', 'limit']);
      const filter: RecentCallsOptions = { limit: intParam('limit', q.limit, 1, 1000, 100) };
      if (q.service) filter.service = q.service;
      if (q.method) filter.method = q.method;
      if (q.status) filter.code = statusParam(q.status);
      if (q.user) {
        if (/^\d+$/.test(q.user)) filter.userId = Number(q.user);
        else {
          const user = await db.user.findUnique({ where: { username: q.user }, select: { id: true } });
          if (!user) return { json: { calls: [] } };
          filter.userId = user.id;
        }
      }
      const calls = await recentCalls(db, filter);
      // Usernames for the people reading the table: one query for the page's users.
      const ids = [...new Set(calls.flatMap((c) => (c.userId === null ? [] : [c.userId])))];
      const users = ids.length ? await db.user.findMany({ where: { id: { in: ids } }, select: { id: true, username: true } }) : [];
      const names = new Map(users.map((u) => [u.id, u.username]));
      return { json: { calls: calls.map((c) => ({ ...c, username: c.userId === null ? null : (names.get(c.userId) ?? null) })) } };
    },
  };
}

/** GET /api/stats?window=1h: per method, calls, errors, error rate, p50 and p99 latency over the window. */
export function statsRoute(db: Db): Route {
  return {
    method: 'GET',
    path: '/api/stats',
    access: 'staff',
    async handle(req) {
      const q = queryParams(req, ['window']);
      let seconds = 3600;
      if (q.window !== undefined) {
        try {
          seconds = parseDuration(q.window);
        } catch {
          seconds = NaN;
        }
        if (!(seconds >= 1 && seconds <= MAX_WINDOW_S)) {
          throw badRequest(`window must be a duration from 1s to 7d such as 90s, 15m, 1h or 1d (got ${JSON.stringify(q.window)}).`);
        }
      }
      return { json: { windowSeconds: seconds, methods: await methodStats(db, { sinceMs: seconds * 1000 }) } };
    },
  };
}

/** GET /api/stats/series?window=1h: per method, calls per second and p99 latency in 30 steps over the window. */
export function seriesRoute(db: Db): Route {
  return {
    method: 'GET',
    path: '/api/stats/series',
    access: 'staff',
    async handle(req) {
      const q = queryParams(req, ['window']);
      const seconds = q.window === undefined ? 3600 : windowSeconds(q.window);
      return { json: { windowSeconds: seconds, ...(await methodSeries(db, { sinceMs: seconds * 1000 })) } };
    },
  };
}

function windowSeconds(text: string): number {
  let seconds: number;
  try {
    seconds = parseDuration(text);
  } catch {
    seconds = NaN;
  }
  if (!(seconds >= 1 && seconds <= MAX_WINDOW_S))
    throw badRequest(`window must be a duration from 1s to 7d such as 90s, 15m, 1h or 1d (got ${JSON.stringify(text)}).`);
  return seconds;
}
