import { CallState } from '../call/context.ts';
import { GrpcError, Status } from '../call/error.ts';
import type { Interceptor } from '../call/interceptor.ts';

export interface ConcurrencyOptions {
  /** Most calls running at once in this process (grpc.server.maxWorkers). */
  max: number;
  /** Calls that may wait for a free slot; past that, RESOURCE_EXHAUSTED. Default max * 100. */
  queue?: number;
  /**
   * Count server-streaming and bidi calls too. Default false: a stream that waits for events
   * holds no thread on Node, and counting long-lived streams would let a few watchers starve
   * every unary call (the trap a Python thread pool sets).
   */
  streams?: boolean;
}

/** The interceptor, plus its live counts (for tests and metrics). */
export interface ConcurrencyLimit extends Interceptor {
  readonly running: number;
  readonly waiting: number;
}

/**
 * maxWorkers on Node: at most `max` calls run at once in this process; up to `queue` more wait
 * their turn, in order; past that a call is refused with RESOURCE_EXHAUSTED instead of piling up
 * memory. A call whose client gives up while it waits is dropped without running. A call that
 * hands its work to a bounded queue of its own gives its slot back early (ctx.releaseWorkerSlot()):
 * a money call waiting for its batch then no longer holds up a GetCoin queued behind it.
 */
export function concurrencyLimit(options: ConcurrencyOptions): ConcurrencyLimit {
  const { max, queue = max * 100, streams = false } = options;
  if (!Number.isInteger(max) || max < 1) throw new TypeError(`concurrencyLimit: max must be an integer >= 1, got ${max}`);
  if (!Number.isInteger(queue) || queue < 0) throw new TypeError(`concurrencyLimit: queue must be an integer >= 0, got ${queue}`);
  let running = 0;
  const waiting: Array<() => void> = [];

  // A finished call hands its slot straight to the next waiter, so `running` stays at max.
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return {
    name: 'concurrency',
    get running() {
      return running;
    },
    get waiting() {
      return waiting.length;
    },
    appliesTo: (method) => streams || method.kind === 'unary' || method.kind === 'clientStream',
    async intercept(ctx, next) {
      if (running < max) running++;
      else {
        if (waiting.length >= queue) {
          throw new GrpcError(Status.RESOURCE_EXHAUSTED, `Server busy: ${max} calls running and ${queue} waiting; retry later`);
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
        // ctx.cancelled asks the transport directly; ctx.signal would build an AbortController per waiting
        // call (measured at 60-90 us per reply on PostgreSQL, where most calls wait for a slot).
        if (ctx.cancelled) {
          release();
          throw new GrpcError(Status.CANCELLED, 'Call cancelled while waiting for a free slot');
        }
      }
      if (!(ctx instanceof CallState)) {
        try {
          await next(ctx);
        } finally {
          release();
        }
        return;
      }
      ctx.workerSlot = release;
      try {
        await next(ctx);
      } finally {
        ctx.releaseWorkerSlot();
      }
    },
  };
}
