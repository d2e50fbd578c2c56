import { getLogger } from '../../log/logger.ts';
import type { ServiceHost } from '../host.ts';
import type { HealthHandle } from './health.ts';

const log = getLogger('grpc.server');

/**
 * A server started on a database with unapplied migrations (rungrpc --allow-unmigrated) never
 * reports SERVING while they are pending: the returned handle drops every SERVING until a check
 * (every `intervalMs`) finds none left, then turns the server SERVING. Other code (the database
 * outage watcher) sets statuses through this handle.
 */
export function holdUntilMigrated(
  server: ServiceHost,
  health: HealthHandle,
  pending: () => Promise<number>,
  intervalMs = 5000,
): HealthHandle {
  let behind = true;
  const timer = setInterval(() => {
    pending().then(
      (n) => {
        if (n > 0 || !behind) return;
        behind = false;
        clearInterval(timer);
        log.info('every migration is applied now: SERVING');
        health.setAll('SERVING');
      },
      () => {}, // unreachable meanwhile: the outage watcher reports that
    );
  }, intervalMs).unref();
  server.onShutdown(() => clearInterval(timer));
  return {
    set: (service, status) => (status === 'SERVING' && behind ? undefined : health.set(service, status)),
    setAll: (status) => (status === 'SERVING' && behind ? undefined : health.setAll(status)),
  };
}
