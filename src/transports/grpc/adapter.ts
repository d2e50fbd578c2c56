import type {
  MethodDefinition,
  sendUnaryData,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedHandleCall,
} from '@grpc/grpc-js';
import { compose, type CallEnd, type Interceptor, type Next } from '../../call/interceptor.ts';
import { getLogger } from '../../log/logger.ts';
import { type CallContext, ServerCallContext } from '../../call/context.ts';
import { GrpcError, Status } from '../../call/error.ts';
import type { StreamWriter } from '../../services/types.ts';
import type { MethodInfo } from '../../call/method.ts';
import { shuttingDown, type OpenStreams } from './open-streams.ts';
import { expectResponse, takeResponseSize } from './sizes.ts';
import { toStatus } from '../../call/boundary.ts';

type AnyFn = (...args: unknown[]) => unknown;
const log = getLogger('grpc.server');
type Writable = ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>;

/**
 * Builds the grpc-js handler for one method: a context per call, the composed interceptor chain,
 * the service method, and the translation of its result or error into the gRPC response.
 */
export function createHandler(
  info: MethodInfo,
  definition: MethodDefinition<unknown, unknown>,
  implementation: object,
  interceptors: readonly Interceptor[],
  serverSignal: AbortSignal,
  /** Where streaming calls register, so that a drain ends them at once (UNAVAILABLE). */
  streams?: OpenStreams,
): UntypedHandleCall {
  const fn = (implementation as Record<string, unknown>)[info.key];
  const ownerName = implementation.constructor?.name ?? 'the service';
  const terminal: Next =
    typeof fn !== 'function'
      ? () => Promise.reject(new GrpcError(Status.UNIMPLEMENTED, `Method ${info.name} is not implemented by ${ownerName}`))
      : terminalFor(info, (fn as AnyFn).bind(implementation));
  const { run, starts, ends } = compose(info, interceptors, terminal);
  const observed = ends.length > 0;

  switch (info.kind) {
    case 'unary':
    case 'clientStream':
      return (call: ServerUnaryCall<unknown, unknown> | ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const ctx = new ServerCallContext(info, call, serverSignal);
        if (starts.length > 0) started(starts, ctx);
        const drain = info.kind === 'clientStream' ? endOnDrain(streams, ctx, observed ? ends : [], (status) => callback(status)) : undefined;
        run(ctx).then(
          () => {
            if (drain?.settle()) return;
            ctx.flushHeaders();
            if (!observed) callback(null, ctx.response, ctx.takeTrailers());
            else {
              expectResponse();
              callback(null, ctx.response, ctx.takeTrailers());
              const size = takeResponseSize();
              if (call.cancelled) ended(ends, ctx, Status.CANCELLED, CANCELLED, null);
              else ended(ends, ctx, Status.OK, '', size);
            }
            ctx.finish();
          },
          (err: unknown) => {
            if (drain?.settle()) return;
            ctx.flushHeaders();
            const status = toStatus(err, ctx);
            callback(status);
            if (observed) ended(ends, ctx, status.code, status.details, null);
            ctx.finish();
          },
        );
      };
    case 'serverStream':
    case 'bidi':
      return (call: Writable) => {
        const ctx = new ServerCallContext(info, call, serverSignal);
        if (starts.length > 0) started(starts, ctx);
        const drain = endOnDrain(streams, ctx, observed ? ends : [], (status) => call.emit('error', status));
        run(ctx).then(
          () => {
            if (drain?.settle()) return;
            ctx.flushHeaders();
            call.end(ctx.takeTrailers());
            if (observed) ended(ends, ctx, call.cancelled ? Status.CANCELLED : Status.OK, call.cancelled ? CANCELLED : '', null);
            ctx.finish();
          },
          (err: unknown) => {
            if (drain?.settle()) return;
            ctx.flushHeaders();
            const status = toStatus(err, ctx);
            call.emit('error', status);
            if (observed) ended(ends, ctx, status.code, status.details, null);
            ctx.finish();
          },
        );
      };
  }
  void definition;
}

const CANCELLED = 'Call cancelled';

/**
 * Registers a streaming call with the server's open streams. On drain its status goes out at once
 * (UNAVAILABLE, "Server is shutting down"), the observers are told, and its signal aborts; the
 * method's own result, whenever it comes, is then ignored. `settle()` unregisters the call when
 * the method is done and says whether the drain already answered it.
 */
function endOnDrain(streams: OpenStreams | undefined, ctx: ServerCallContext, ends: readonly Interceptor[], send: (status: ReturnType<typeof toStatus>) => void): { settle(): boolean } | undefined {
  if (!streams) return undefined;
  let drained = false;
  const release = streams.add(() => {
    drained = true;
    ctx.flushHeaders();
    const status = toStatus(shuttingDown(), ctx);
    send(status);
    if (ends.length > 0) ended(ends, ctx, status.code, status.details, null);
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
function started(starts: readonly Interceptor[], ctx: ServerCallContext): void {
  for (const observer of starts) {
    try {
      observer.onStart!(ctx);
    } catch (err) {
      log.warn(`interceptor ${observer.name}: onStart failed`, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** Tells the onEnd observers how the call ended; one that throws is logged and skipped. */
function ended(ends: readonly Interceptor[], ctx: ServerCallContext, code: Status, message: string, responseSize: number | null): void {
  const end: CallEnd = { code, message, durationMs: performance.now() - ctx.startedAt, responseSize };
  for (const observer of ends) {
    try {
      observer.onEnd!(ctx, end);
    } catch (err) {
      log.warn(`interceptor ${observer.name}: onEnd failed`, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

function terminalFor(info: MethodInfo, fn: AnyFn): Next {
  switch (info.kind) {
    case 'unary':
      return async (ctx) => {
        const c = ctx as ServerCallContext;
        c.response = await fn((c.call as ServerUnaryCall<unknown, unknown>).request, ctx);
        if (c.response == null) throw new Error(`${info.key}() returned ${String(c.response)}; a unary method must return its response message`);
      };
    case 'clientStream':
      return async (ctx) => {
        const c = ctx as ServerCallContext;
        c.response = await fn(requestsOf(c.call as ServerReadableStream<unknown, unknown>), ctx);
        if (c.response == null) throw new Error(`${info.key}() returned ${String(c.response)}; a client-streaming method must return its response message`);
      };
    case 'serverStream':
      // A method declaring a third parameter writes through a StreamWriter; otherwise it yields.
      if (fn.length >= 3) {
        return async (ctx) => {
          const c = ctx as ServerCallContext;
          await withWriter(c, (out) => fn((c.call as ServerWritableStream<unknown, unknown>).request, ctx, out));
        };
      }
      return (ctx) => {
        const c = ctx as ServerCallContext;
        return pump(c, fn((c.call as ServerWritableStream<unknown, unknown>).request, ctx), info);
      };
    case 'bidi':
      if (fn.length >= 3) {
        return async (ctx) => {
          const c = ctx as ServerCallContext;
          await withWriter(c, (out) => fn(requestsOf(c.call as ServerDuplexStream<unknown, unknown>), ctx, out));
        };
      }
      return (ctx) => {
        const c = ctx as ServerCallContext;
        return pump(c, fn(requestsOf(c.call as ServerDuplexStream<unknown, unknown>), ctx), info);
      };
  }
}

/** Runs a writer-style streaming method; writes after it returns are ignored (the call is ending). */
async function withWriter(ctx: ServerCallContext, run: (out: StreamWriter<unknown>) => unknown): Promise<void> {
  const call = ctx.call as Writable;
  let open = true;
  const out: StreamWriter<unknown> = {
    async write(message) {
      if (!open || call.cancelled || call.writableEnded) return; // ended: cancelled, or drained on shutdown
      ctx.flushHeaders();
      ctx.messagesSent++;
      if (!call.write(message)) await drained(call, ctx);
    },
  };
  try {
    await run(out);
  } finally {
    open = false;
  }
}

/**
 * The request stream as an async iterable that leaves the call open when the loop ends: a plain
 * `for await` over the call itself destroys it at the end, and with it the bidi response side.
 */
function requestsOf(call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>): AsyncIterable<unknown> {
  return { [Symbol.asyncIterator]: () => call.iterator({ destroyOnReturn: false }) };
}

/** Writes every message the method yields, honouring back-pressure and cancellation. */
async function pump(ctx: ServerCallContext, out: unknown, info: MethodInfo): Promise<void> {
  if (out == null || typeof (out as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
    throw new Error(`${info.key}() must return an async iterable (write it as an async generator: async *${info.key}(...))`);
  }
  const call = ctx.call as Writable;
  for await (const message of out as AsyncIterable<unknown>) {
    if (call.cancelled || call.writableEnded) break; // ended: cancelled, or drained on shutdown
    ctx.flushHeaders();
    ctx.messagesSent++;
    if (!call.write(message)) await drained(call, ctx as CallContext);
  }
}

function drained(call: Writable, ctx: CallContext): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      ctx.signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    ctx.signal.addEventListener('abort', done, { once: true });
  });
}
