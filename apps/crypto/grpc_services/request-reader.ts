import { GrpcError, Status, type CallContext } from 'cfg-grpc';

/** What `next(ms)` resolves to when no request came within `ms`. */
export const TIMEOUT = Symbol('timeout');

/**
 * The status a streaming method ends with once its call is over from the outside: the client
 * cancelled (CANCELLED), its deadline passed (DEADLINE_EXCEEDED), or the server drained it (the
 * client was already told UNAVAILABLE; this only stops the method). grpc-js has sent the client's
 * status already; this one is what the server's logs and observers see.
 */
export function callEnded(ctx: CallContext): GrpcError {
  const deadline = +ctx.deadline;
  if (Date.now() >= deadline) return new GrpcError(Status.DEADLINE_EXCEEDED, 'Deadline exceeded');
  const reason = ctx.signal.reason instanceof Error ? ctx.signal.reason.message : 'call ended';
  return new GrpcError(Status.CANCELLED, `Call ended: ${reason}`);
}

/**
 * A client or bidi call's requests, read one at a time: the next is asked for only when the
 * method is ready for it, so the transport stops reading (HTTP/2 flow control pushes back on the
 * client) while the method applies what it has. A read never outlives the call: when the call is
 * cancelled, passes its deadline or is drained, `next` rejects at once (a drained call's request
 * stream would otherwise stay open), with callEnded's status.
 */
export class RequestReader<T> {
  private readonly it: AsyncIterator<T>;
  private pending: Promise<IteratorResult<T>> | undefined;

  constructor(
    requests: AsyncIterable<T>,
    private readonly ctx: CallContext,
  ) {
    this.it = requests[Symbol.asyncIterator]();
    void ctx.signal; // made now, so that it sees a cancellation that comes before the first read
  }

  /** The next request or the end of the stream; TIMEOUT when nothing came within `ms` (the read stays pending for the next call). */
  async next(ms = Infinity): Promise<IteratorResult<T> | typeof TIMEOUT> {
    const { signal } = this.ctx;
    if (signal.aborted) throw callEnded(this.ctx);
    const read = (this.pending ??= this.it.next());
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const result = await new Promise<IteratorResult<T> | typeof TIMEOUT>((resolve, reject) => {
        onAbort = () => reject(callEnded(this.ctx));
        signal.addEventListener('abort', onAbort, { once: true });
        if (Number.isFinite(ms)) timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, ms));
        read.then(
          (r) => {
            if (!r.done) return resolve(r);
            // A client's cancel (RST_STREAM) ends Node's HTTP/2 stream before grpc-js reports the
            // cancellation, so it first reads as the client ending its requests: the end counts
            // only if no cancellation follows within the same turn of the event loop.
            setImmediate(() => (signal.aborted ? reject(callEnded(this.ctx)) : resolve(r)));
          },
          (err: unknown) => reject(signal.aborted ? callEnded(this.ctx) : err),
        );
      });
      if (result !== TIMEOUT) this.pending = undefined;
      return result;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }
}
