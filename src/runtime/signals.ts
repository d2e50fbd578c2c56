import cluster from 'node:cluster';
import type { CfgConfig } from '../config/types.ts';
import { flushLogs, getLogger } from '../log/logger.ts';
import type { RunningServer } from '../server/start.ts';
import { MANAGED_ENV } from './options.ts';
import { stopWhenOrphaned } from './parent-watch.ts';

const log = getLogger('grpc.server');

/**
 * Graceful stop on the first signal, exit now on the second. Installed before start-up, so a
 * signal never meets the default "die at once"; one that comes before the server serves exits 0.
 * A managed process ignores SIGINT: its parent relays Ctrl-C as SIGTERM.
 */
export function handleSignals(config: CfgConfig): { serving(running: RunningServer): void; failed(): void } {
  let signals = 0;
  let running: RunningServer | undefined;
  const stop = (why: string) => {
    signals++;
    if (signals > 1) {
      log.warn(`${why} again: exiting now`);
      flushLogs();
      process.exit(1);
    }
    if (!running) {
      log.info(`${why} during start-up: exiting`);
      flushLogs();
      process.exit(0);
    }
    log.info(
      `${why}: shutting down (open streams end now with UNAVAILABLE; unary calls in flight get ${config.grpc.server.shutdownGraceMs} ms; signal again to force)`,
    );
    running.stop().then(
      () => {
        log.info('stopped');
        flushLogs();
        process.exit(0);
      },
      (err: unknown) => {
        log.error('shutdown failed', { error: (err as Error).message });
        flushLogs();
        process.exit(1);
      },
    );
  };
  const managed = cluster.isWorker || process.env[MANAGED_ENV] === '1';
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => (managed ? undefined : stop('SIGINT')));
  const orphaned = () => signals === 0 && stop('parent process gone');
  if (process.env[MANAGED_ENV] === '1' && !cluster.isWorker) onParentGone(orphaned);
  else if (!managed) stopWhenOrphaned(orphaned);
  return {
    serving(r) {
      running = r;
    },
    failed() {
      process.off('disconnect', orphaned);
    },
  };
}

/**
 * Stops when the --reload supervisor's IPC channel closes (it died without stopping us). The
 * channel is unref'd: a 'disconnect' listener would otherwise keep a failed start-up alive.
 * (Cluster workers need none of this: node:cluster ends them when their primary goes.)
 */
export function onParentGone(fn: () => void): void {
  if (!process.connected) return;
  process.once('disconnect', fn);
  process.channel?.unref();
}
