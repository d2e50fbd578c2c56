import { GrpcError, Status } from './error.ts';

/** The status a long-lived call gets when the server starts draining. */
export const SHUTTING_DOWN =
  'Server is shutting down: this stream was ended so that it can stop; reconnect (to another server, or to this one once it is back) to continue';

/** The error every open stream is ended with on drain: UNAVAILABLE, which clients may retry elsewhere. */
export function shuttingDown(): GrpcError {
  return new GrpcError(Status.UNAVAILABLE, SHUTTING_DOWN);
}

/**
 * The server's long-lived calls (server-streaming, client-streaming and bidi): a stream may stay
 * open for hours, so graceful shutdown does not wait for it. `endAll()` ends each at once with
 * UNAVAILABLE (a client can reconnect elsewhere), while unary calls get the grace period; a stream
 * that starts after it is ended as soon as it registers.
 */
export class OpenStreams {
  private readonly open = new Set<() => void>();
  private draining = false;

  get size(): number {
    return this.open.size;
  }

  /** Registers a call's "end now"; returns its release, called when the call ends on its own. */
  add(end: () => void): () => void {
    if (this.draining) {
      setImmediate(end);
      return () => {};
    }
    this.open.add(end);
    return () => this.open.delete(end);
  }

  /** Ends every open stream; returns how many there were. */
  endAll(): number {
    this.draining = true;
    const ends = [...this.open];
    this.open.clear();
    for (const end of ends) end();
    return ends.length;
  }
}
