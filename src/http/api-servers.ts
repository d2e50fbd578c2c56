import type { Db } from '../db/client.ts';
import { listServers } from '../ops/queries.ts';
import type { Route } from './router.ts';

/** GET /api/servers: every cfg server the monitor knows, with its uptime while serving; stale ones are "down". */
export function serversRoute(db: () => Promise<Db>): Route {
  return {
    method: 'GET',
    path: '/api/servers',
    access: 'staff',
    async handle() {
      const now = Date.now();
      const servers = (await listServers(await db())).map((s) => ({
        ...s,
        uptimeSeconds: s.status !== 'serving' ? null : Math.max(0, Math.round((now - s.startedAt.getTime()) / 1000)),
      }));
      return { json: { servers } };
    },
  };
}
