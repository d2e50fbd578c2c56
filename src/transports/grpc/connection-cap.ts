import type { Socket } from 'node:net';
import type { Logger } from '../../log/logger.ts';
import { rateLimited, type RateLimited } from '../../log/rate-limited.ts';

/** How often, at most, refused connections are reported. */
const REFUSALS_EVERY_MS = 10_000;

/**
 * A listener's cap on open connections: past `max`, a new connection is closed at once and
 * counted; the first refusal is logged at once, then at most one warning per 10 s with the count,
 * never one line per socket. (Not node's server.maxConnections: in a node:cluster worker a
 * connection it refuses goes back to the primary, which hands it to a worker again, endlessly
 * when every worker is full.)
 */
export class ConnectionCap {
  /** The connections open now. */
  readonly open = new Set<Socket>();
  private readonly refusals: RateLimited;

  constructor(
    logger: Logger,
    listener: string,
    setting: string,
    readonly max: number,
  ) {
    this.refusals = rateLimited(REFUSALS_EVERY_MS, (count, sinceMs) => {
      const when = sinceMs === undefined ? '' : ` in the last ${sinceMs / 1000} s`;
      logger.warn(
        `${listener}: connection limit reached, ${count} new connection(s) refused${when} (${this.open.size} open; ${setting} is ${max} per process)`,
        { refused: count, open: this.open.size, maxConnections: max },
      );
    });
  }

  /** Tracks `socket` until it closes, or closes it now (false) when `max` are open. */
  admit(socket: Socket): boolean {
    if (this.open.size >= this.max) {
      socket.destroy();
      this.refusals.hit();
      return false;
    }
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    return true;
  }
}
