import { readFileSync } from 'node:fs';
import type { CfgConfig } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';

/** Descriptors kept for what is not a client connection: the database pool, files, stdio, workers. */
const RESERVE = 256;

/** This process's open-file limit (Linux: /proc/self/limits, "Max open files"); undefined elsewhere or when unlimited. */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line ? Number(line.split(/\s{2,}/)[1]) : NaN;
    return Number.isFinite(soft) ? soft : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Warns when the connection caps do not fit under the process's descriptor limit: the caps would
 * never apply, and at the limit accepting fails for every client (EMFILE), the starvation they
 * are there to prevent.
 */
export function checkDescriptorLimit(config: CfgConfig, withHttp: boolean, log: Logger, limit = openFileLimit()): void {
  if (limit === undefined) return;
  const web = config.grpc.web.enabled;
  const caps =
    config.grpc.server.maxConnections + (withHttp ? config.grpc.http.maxConnections : 0) + (web ? config.grpc.web.maxConnections : 0);
  if (caps + RESERVE <= limit) return;
  const room = Math.max(0, limit - RESERVE);
  log.warn(
    `grpc.server.maxConnections (${config.grpc.server.maxConnections}${withHttp ? ` + grpc.http.maxConnections ${config.grpc.http.maxConnections}` : ''}${web ? ` + grpc.web.maxConnections ${config.grpc.web.maxConnections}` : ''}) does not fit under this process's open-file limit (${limit}, ulimit -n) with ${RESERVE} to spare: past about ${room} connections new ones fail for every client (EMFILE) before the cap applies. Lower maxConnections to ${room} or less, or raise the limit.`,
    { maxConnections: config.grpc.server.maxConnections, openFileLimit: limit },
  );
}
