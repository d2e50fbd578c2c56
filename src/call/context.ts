import type { CallStatus, MetadataValue } from './error.ts';
import type { MethodInfo } from './method.ts';
import type { ContextKey, ContextValues } from './values.ts';

/** Request metadata (headers) as the client sent them. grpc-js's Metadata is one. */
export interface RequestMetadata {
  /** Every value sent for `key` (lower case), in order; [] when none. "-bin" keys carry Buffers. */
  get(key: string): MetadataValue[];
  /** Each key with its first value. */
  getMap(): { [key: string]: MetadataValue };
}

/**
 * Everything a handler and the interceptors know of one call, whatever the transport. One object
 * per call; its costly parts (the AbortSignal, the value store, the formatted peer) are made on
 * first use. What an interceptor adds to a call travels in `values`, under a key it owns
 * (src/call/values.ts): the auth interceptor's caller is `userOf(ctx)` / `ctx.values.get(CALLER)`.
 */
/** The protocol a call came over: native gRPC (the gRPC port), or gRPC-Web / Connect (the web listener). */
export type CallProtocol = 'grpc' | 'grpc-web' | 'connect';

export interface CallContext {
  readonly method: MethodInfo;
  /** The protocol the call came over (a label for metrics, traces and logs). */
  readonly protocol: CallProtocol;
  readonly metadata: RequestMetadata;
  /** "ipv4:127.0.0.1:12345" or "ipv6:[::1]:12345". */
  readonly peer: string;
  /** Aborted when the client cancels, the deadline passes or the server shuts down. */
  readonly signal: AbortSignal;
  /** True once the client has cancelled (or its deadline passed); cheaper to ask than `signal`. */
  readonly cancelled: boolean;
  /** The client's deadline, or Infinity. */
  readonly deadline: Date | number;
  /** Milliseconds (performance.now()) when the call reached cfg. */
  readonly startedAt: number;
  /** Typed per-call values, each under the key its owner declared (createContextKey). */
  readonly values: ContextValues;
  /** Serialized bytes of the request message, where the transport measures it (unary and server-streaming calls), else null. */
  readonly requestSize: number | null;
  /** Adds a response header (sent before the first message); after that, a trailer. */
  addResponseMetadata(key: string, value: string | Buffer): void;
  /**
   * Says the call now waits on a bounded queue of its own (a batch writer, say) and no longer needs
   * one of grpc.server.maxWorkers' slots: the calls queued behind it stop waiting out its wait.
   * Once per call; a no-op where no limit applies.
   */
  releaseWorkerSlot(): void;
}

/**
 * A call as the call core runs it: the transport-free state of CallContext, and the few things a
 * transport must do for the core (the "wire", below). Each transport's context extends it
 * (src/transports/grpc/call-context.ts for grpc-js) and hands it to the method's runner
 * (src/call/invoke.ts) with the request. `values` is the context itself: a call that sets one
 * value allocates nothing for it.
 *
 * Every RPC makes one, so it is built for that: it has no constructor and no field initializers of
 * its own (a base class that has them makes each `new` of the subclass measurably slower). Its
 * fields are declared here and given their values by `startCall`, the first thing the transport's
 * constructor does after `super()`.
 */
export abstract class CallState implements CallContext, ContextValues {
  declare startedAt: number;
  /** The request (unary, server-streaming) or the request stream, as the transport handed it to the core. */
  declare input: unknown;
  /** The unary or client-streaming response, once the method returned it. */
  declare response: unknown;
  /** Messages written on a streaming response. */
  declare messagesSent: number;
  /** Set by the concurrency limit while the call holds a slot. */
  declare workerSlot: (() => void) | undefined;
  // The values: the first key set is held in two fields (most calls set one value: the caller),
  // further keys in an object made on demand. A key is in one place or the other, never both.
  declare private firstKey: symbol | undefined;
  declare private firstValue: unknown;
  declare private more: Record<symbol, unknown> | undefined;
  declare private controller: AbortController | undefined;
  declare private finished: boolean;
  /** Aborts every call at once (forced shutdown). */
  declare private serverSignal: AbortSignal;

  /** Gives the core's fields their first values, all at once (one object shape for every call). */
  protected startCall(serverSignal: AbortSignal): void {
    this.startedAt = performance.now();
    this.input = undefined;
    this.response = undefined;
    this.messagesSent = 0;
    this.workerSlot = undefined;
    this.firstKey = undefined;
    this.firstValue = undefined;
    this.more = undefined;
    this.controller = undefined;
    this.finished = false;
    this.serverSignal = serverSignal;
  }

  abstract readonly method: MethodInfo;
  abstract readonly protocol: CallProtocol;
  abstract readonly metadata: RequestMetadata;
  abstract readonly peer: string;
  abstract readonly deadline: Date | number;
  abstract readonly cancelled: boolean;
  abstract readonly requestSize: number | null;
  abstract addResponseMetadata(key: string, value: string | Buffer): void;

  // --- The wire: implemented by the transport, called only by the call core -----------------

  /** Calls `listener` once when the client cancels or its deadline passes. */
  protected abstract onCancel(listener: () => void): void;
  /**
   * Answers a unary or client-streaming call: headers, the message, OK and the trailers. Returns
   * the message's serialized size where the transport measures it, else null.
   */
  abstract sendResponse(message: unknown): number | null;
  /** True when the response stream takes no more messages (cancelled, ended, ended by a drain). */
  abstract readonly closed: boolean;
  /**
   * Writes one message of a streaming response (headers first, if not sent yet); false when the
   * transport's buffer is full: await `drained()`.
   */
  abstract write(message: unknown): boolean;
  /** Resolves when the transport's buffer has room again, or the call is over. */
  abstract drained(): Promise<void>;
  /** Ends a streaming response: OK and the trailers. */
  abstract end(): void;
  /** Ends the call with an error status (already mapped at the boundary). */
  abstract sendError(status: CallStatus): void;

  // --- CallContext ---------------------------------------------------------------------------

  get values(): ContextValues {
    return this;
  }

  get<T>(key: ContextKey<T>): T {
    const id = key.id;
    if (this.firstKey === id) return this.firstValue as T;
    const more = this.more;
    return more !== undefined && id in more ? (more[id] as T) : key.defaultValue;
  }

  set<T>(key: ContextKey<T>, value: T): this {
    const id = key.id;
    if (this.firstKey === id || (this.firstKey === undefined && (this.more === undefined || !(id in this.more)))) {
      this.firstKey = id;
      this.firstValue = value;
    } else (this.more ??= {})[id] = value;
    return this;
  }

  has(key: ContextKey<unknown>): boolean {
    return this.firstKey === key.id || (this.more !== undefined && key.id in this.more);
  }

  delete(key: ContextKey<unknown>): this {
    if (this.firstKey === key.id) {
      this.firstKey = undefined;
      this.firstValue = undefined;
    } else if (this.more !== undefined) delete this.more[key.id];
    return this;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = (this.controller = new AbortController());
      if (this.cancelled) controller.abort(new Error('call cancelled by the client'));
      else {
        this.onCancel(() => controller.abort(new Error('call cancelled by the client or its deadline passed')));
        const server = this.serverSignal;
        if (server.aborted) controller.abort(server.reason);
        else {
          const onServerAbort = () => controller.abort(new Error('server shutting down'));
          server.addEventListener('abort', onServerAbort, { once: true });
          controller.signal.addEventListener('abort', () => server.removeEventListener('abort', onServerAbort), { once: true });
        }
      }
    }
    return this.controller.signal;
  }

  releaseWorkerSlot(): void {
    const release = this.workerSlot;
    this.workerSlot = undefined;
    release?.();
  }

  /** Releases the server-abort listener (aborting the signal with `reason`); called once when the call ends. */
  finish(reason = 'call finished'): void {
    if (this.finished) return;
    this.finished = true;
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(new Error(reason));
  }
}
