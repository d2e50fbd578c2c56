/**
 * The call core's entry for transports: one code path for every call, whatever carries it.
 *
 * A transport (grpc-js in src/transports/grpc; gRPC-Web and Connect over node:http2 next) does two
 * things and nothing else of a call's logic:
 *
 * 1. At registration, once per method: `bindMethod(info, implementation, interceptors, streams)`
 *    composes the interceptor chain around the service method (src/call/interceptor.ts compose).
 * 2. Per call: it makes its context, a subclass of CallState (src/call/context.ts) that implements
 *    the CallContext fields it knows (metadata, peer, deadline, cancelled, requestSize, response
 *    metadata) and the wire (sendResponse; write, drained, closed, end; sendError), and calls
 *    `bound.invoke(ctx, input)` with what it decoded: the request message for a unary or
 *    server-streaming call, an AsyncIterable of request messages for a client-streaming or bidi one.
 *
 * The core then runs the `onStart` observers, the chain and the method (the request is the
 * method's first argument), answers through the wire (the response and OK; each streamed message
 * with back-pressure; or the status the boundary maps an error to, src/call/boundary.ts), tells
 * the `onEnd` observers how the call ended, and ends streams at once when the server drains
 * (src/call/open-streams.ts). `invoke` never throws and adds no await of its own.
 */
import { getLogger } from '../log/logger.ts';
import { toStatus } from './boundary.ts';
import type { CallContext, CallState } from './context.ts';
import { GrpcError, Status } from './error.ts';
import { compose, type CallEnd, type Interceptor, type Next } from './interceptor.ts';
import type { MethodInfo } from './method.ts';
import { shuttingDown, type OpenStreams } from './open-streams.ts';

/**
 * Sends the messages of a streaming response, for methods written with a writer rather than as
 * an async generator. `write` resolves once the message is queued (waiting while the client is
 * slow); after the client has gone it does nothing.
 */
export interface StreamWriter<R> {
  write(message: R): Promise<void>;
}

/** One method, bound to its implementation and chain. */
export interface BoundMethod {
  readonly info: MethodInfo;
  /** Runs one call: `input` is the request (unary, server-streaming) or the request stream (client-streaming, bidi). */
  invoke(ctx: CallState, input: unknown): void;
}

type AnyFn = (...args: unknown[]) => unknown;
const log = getLogger('grpc.server');
const CANCELLED = 'Call cancelled';

export function bindMethod(
  info: MethodInfo,
  implementation: object,
  interceptors: readonly Interceptor[],
  /** Where streaming calls register, so that a drain ends them at once (UNAVAILABLE). */
  streams?: OpenStreams,
): BoundMethod {
  const fn = (implementation as Record<string, unknown>)[info.key];
  const ownerName = implementation.constructor?.name ?? 'the service';
  const terminal: Next =
    typeof fn !== 'function'
      ? () => Promise.reject(new GrpcError(Status.UNIMPLEMENTED, `Method ${info.name} is not implemented by ${ownerName}`))
      : terminalFor(info, (fn as AnyFn).bind(implementation));
  const { run, starts, ends } = compose(info, interceptors, terminal);
  const observed = ends.length > 0;
  const drains = info.kind === 'unary' ? undefined : streams;

  const failed = (ctx: CallState, err: unknown): void => {
    const status = toStatus(err, ctx);
    ctx.sendError(status);
    if (observed) ended(ends, ctx, status.code, status.message, null);
    ctx.finish();
  };

  if (info.kind === 'unary' || info.kind === 'clientStream') {
    return {
      info,
      invoke(ctx, input) {
        ctx.input = input;
        if (starts.length > 0) started(starts, ctx);
        const drain = drains ? endOnDrain(drains, ctx, ends) : undefined;
        run(ctx).then(
          () => {
            if (drain?.settle()) return;
            const size = ctx.sendResponse(ctx.response);
            if (observed) {
              if (ctx.cancelled) ended(ends, ctx, Status.CANCELLED, CANCELLED, null);
              else ended(ends, ctx, Status.OK, '', size);
            }
            ctx.finish();
          },
          (err: unknown) => {
            if (!drain?.settle()) failed(ctx, err);
          },
        );
      },
    };
  }
  return {
    info,
    invoke(ctx, input) {
      ctx.input = input;
      if (starts.length > 0) started(starts, ctx);
      const drain = drains ? endOnDrain(drains, ctx, ends) : undefined;
      run(ctx).then(
        () => {
          if (drain?.settle()) return;
          ctx.end();
          if (observed) ended(ends, ctx, ctx.cancelled ? Status.CANCELLED : Status.OK, ctx.cancelled ? CANCELLED : '', null);
          ctx.finish();
        },
        (err: unknown) => {
          if (!drain?.settle()) failed(ctx, err);
        },
      );
    },
  };
}

/**
 * Registers a streaming call with the server's open streams. On drain its status goes out at once
 * (UNAVAILABLE, "Server is shutting down"), the observers are told, and its signal aborts; the
 * method's own result, whenever it comes, is then ignored. `settle()` unregisters the call when
 * the method is done and says whether the drain already answered it.
 */
function endOnDrain(streams: OpenStreams, ctx: CallState, ends: readonly Interceptor[]): { settle(): boolean } {
  let drained = false;
  const release = streams.add(() => {
    drained = true;
    const status = toStatus(shuttingDown(), ctx);
    ctx.sendError(status);
    if (ends.length > 0) ended(ends, ctx, status.code, status.message, null);
    ctx.finish('server shutting down');
  });
  return {
    settle() {
      release();
      return drained;
    },
  };
}

/** Runs the onStart observers; one that throws is logged and skipped. */
function started(starts: readonly Interceptor[], ctx: CallContext): void {
  for (const observer of starts) {
    try {
      observer.onStart!(ctx);
    } catch (err) {
      log.warn(`interceptor ${observer.name}: onStart failed`, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** Tells the onEnd observers how the call ended; one that throws is logged and skipped. */
function ended(ends: readonly Interceptor[], ctx: CallContext, code: Status, message: string, responseSize: number | null): void {
  const end: CallEnd = { code, message, durationMs: performance.now() - ctx.startedAt, responseSize };
  for (const observer of ends) {
    try {
      observer.onEnd!(ctx, end);
    } catch (err) {
      log.warn(`interceptor ${observer.name}: onEnd failed`, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/**
 * The chain's last step: the service method, given the call's input. The context the chain
 * passes down is the CallState the transport made (interceptors pass on the ctx they are given).
 */
function terminalFor(info: MethodInfo, fn: AnyFn): Next {
  switch (info.kind) {
    case 'unary':
    case 'clientStream':
      return async (ctx) => {
        const c = ctx as CallState;
        c.response = await fn(c.input, ctx);
        if (c.response == null) {
          const kind = info.kind === 'unary' ? 'a unary' : 'a client-streaming';
          throw new Error(`${info.key}() returned ${String(c.response)}; ${kind} method must return its response message`);
        }
      };
    case 'serverStream':
    case 'bidi':
      // A method declaring a third parameter writes through a StreamWriter; otherwise it yields.
      if (fn.length >= 3) return (ctx) => withWriter(ctx as CallState, fn);
      return (ctx) => pump(ctx as CallState, fn((ctx as CallState).input, ctx), info);
  }
}

/** Runs a writer-style streaming method; writes after it returns are ignored (the call is ending). */
async function withWriter(ctx: CallState, fn: AnyFn): Promise<void> {
  let open = true;
  const out: StreamWriter<unknown> = {
    async write(message) {
      if (!open || ctx.closed) return; // ended: cancelled, or drained on shutdown
      ctx.messagesSent++;
      if (!ctx.write(message)) await ctx.drained();
    },
  };
  try {
    await fn(ctx.input, ctx, out);
  } finally {
    open = false;
  }
}

/** Writes every message the method yields, honouring back-pressure and cancellation. */
async function pump(ctx: CallState, out: unknown, info: MethodInfo): Promise<void> {
  if (out == null || typeof (out as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
    throw new Error(`${info.key}() must return an async iterable (write it as an async generator: async *${info.key}(...))`);
  }
  for await (const message of out as AsyncIterable<unknown>) {
    if (ctx.closed) break; // ended: cancelled, or drained on shutdown
    ctx.messagesSent++;
    if (!ctx.write(message)) await ctx.drained();
  }
}
