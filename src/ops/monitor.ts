import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CfgConfig } from '../config/types.ts';
import type { Db } from '../db/client.ts';
import type { EventChannel } from '../events/channel.ts';
import { databaseFailure } from '../db/command-errors.ts';
import { getLogger } from '../log/logger.ts';

const log = getLogger('grpc.monitor');

export interface Monitor {
  /** Beats now (tests; the timer beats every heartbeatMs). */
  beat(): Promise<void>;
  /** Stops beating and marks the row "stopped" (graceful shutdown). */
  stop(): Promise<void>;
}

/** The project's package.json version ("0.0.0" when it has none). */
function projectVersion(root: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * grpc.monitor: records this server in grpc_server of `db` (id, host, pid, address, version,
 * services, its rungrpc's process count) and beats every heartbeatMs, with its event channel's
 * subscribers and state (an upsert, so a row deleted meanwhile comes back). Never
 * stops or slows the server: a failed write is logged once as a warning (then at debug) and
 * retried at the next beat. listServers() reports a serving row silent for 3 intervals as down.
 */
export function startMonitor(
  config: CfgConfig,
  db: Db,
  server: { serverId: string; address: string; services: readonly string[]; processes?: number; events?: EventChannel },
): Monitor {
  const row = {
    id: server.serverId,
    host: hostname(),
    pid: process.pid,
    address: server.address,
    version: projectVersion(config.root),
    services: server.services.join(','),
    startedAt: new Date(),
    processes: server.processes ?? 1,
  };
  /** What changes between beats: the event channel's subscribers and state. */
  const live = () => ({ subscribers: server.events?.stats().subscribers ?? 0, channel: server.events?.describe() ?? '' });
  let failing = false;
  let current: Promise<void> = Promise.resolve();
  let stopped = false;

  const write = async (status: 'serving' | 'stopped') => {
    try {
      const lastHeartbeat = new Date();
      const now = live();
      await db.serverInstance.upsert({
        where: { id: row.id },
        create: { ...row, ...now, lastHeartbeat, status },
        update: { ...now, lastHeartbeat, status },
      });
      if (failing) log.info('server monitor: recording this server again');
      failing = false;
    } catch (err) {
      // Prisma's messages start with an empty line and its invocation text: say the cause.
      const failure = databaseFailure(err);
      const message =
        failure?.reason ??
        (String((err as Error).message ?? err)
          .split('\n')
          .find((l) => l.trim() !== '')
          ?.trim() ||
          String(err));
      const todo = failure?.kind === 'schema' ? ' (run cfg migrate)' : '';
      if (!failing) log.warn(`server monitor: cannot record this server in grpc_server: ${message}${todo}`);
      else log.debug(`server monitor: ${message}`);
      failing = true;
    }
  };
  const beat = () => (current = current.then(() => (stopped ? undefined : write('serving'))));
  void beat();
  const timer = setInterval(() => void beat(), config.grpc.monitor.heartbeatMs);
  timer.unref();
  // The channel going down or coming back is recorded at once, not at the next beat.
  const offState = server.events?.onState((change) => {
    if (change.state !== 'closed') void beat();
  });
  return {
    beat,
    async stop() {
      clearInterval(timer);
      offState?.();
      stopped = true;
      await current;
      await write('stopped');
    },
  };
}
