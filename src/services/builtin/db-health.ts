import type { Db } from '../../db/client.ts';
import { onDatabaseOutage } from '../../db/errors.ts';
import { getLogger } from '../../log/logger.ts';
import type { ServiceHost } from '../host.ts';
import type { HealthHandle } from './health.ts';

const log = getLogger('grpc.server');

/**
 * Health follows the database: when a call fails because the database is unavailable, every
 * service turns NOT_SERVING (load balancers stop sending calls) and a probe (SELECT 1 on `db`,
 * every `intervalMs`) turns them SERVING again once the database answers. The pool reconnects
 * by itself; nothing has to be restarted.
 */
export function watchDatabaseHealth(server: ServiceHost, health: HealthHandle, db: Db, intervalMs = 1000): void {
  let timer: NodeJS.Timeout | undefined;
  const probe = async () => {
    try {
      await db.$queryRawUnsafe('SELECT 1');
      timer = undefined;
      if (!server.isShuttingDown) {
        health.setAll('SERVING');
        log.info('database reachable again: SERVING');
      }
    } catch {
      timer = setTimeout(probe, intervalMs).unref();
    }
  };
  const stop = onDatabaseOutage(() => {
    if (timer || server.isShuttingDown) return;
    health.setAll('NOT_SERVING');
    log.warn('database unavailable: NOT_SERVING until it answers again');
    timer = setTimeout(probe, intervalMs).unref();
  });
  server.onShutdown(() => {
    stop();
    if (timer) clearTimeout(timer);
  });
}
