import type { Db } from '../db/client.ts';
import { listServers } from '../ops/queries.ts';
import type { Route } from './router.ts';

/** GET /api/servers: every cfg server the monitor knows, with its uptime while serving; "down" after 3 missed heartbeats (grpc.monitor.heartbeatMs). */
export function serversRoute(db: Db, heartbeatMs: number): Route {
  return {
    method: 'GET',
    path: '/api/servers',
    access: 'staff',
    async handle() {
      const now = Date.now();
      const servers = (await listServers(db, new Date(now), heartbeatMs)).map((s) => ({
        ...s,
        uptimeSeconds: s.status !== 'serving' ? null : Math.max(0, Math.round((now - s.startedAt.getTime()) / 1000)),
      }));
      return { json: { servers } };
    },
  };
}
