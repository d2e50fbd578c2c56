import type { CallContext } from './context.ts';
import type { Status } from './error.ts';
import type { MethodInfo } from './method.ts';

/** Runs the rest of the chain (and finally the handler) for this call. */
export type Next = (ctx: CallContext) => Promise<void>;

/** How a call ended, as its client saw it: what `onEnd` observers are given. */
export interface CallEnd {
  /** The status sent: 0 (OK) or the code an error was mapped to at the boundary. */
  readonly code: Status;
  /** The status message sent ('' when OK): for an unknown error, "Internal server error". */
  readonly message: string;
  /** Milliseconds from the call reaching cfg to its status being sent. */
  readonly durationMs: number;
  /** Bytes of the serialized response (unary and client-streaming calls on a server that measures sizes), else null. */
  readonly responseSize: number | null;
}

/**
 * One link of the chain every call crosses. Two shapes, which one object may combine:
 *
 * - `intercept` wraps the rest of the call: await `next(ctx)` to run it; throw a GrpcError to end
 *   the call with that status (auth, limits, tracing spans).
 * - `onStart` / `onEnd` observe the call without wrapping it (logs, metrics, audit rows): called
 *   when the call reaches cfg and after its status is sent, with that status. They add no async
 *   step to the call, see every call the chain ends (refused by auth, failed in the handler,
 *   answered UNIMPLEMENTED), and must not throw: a throw is logged and the call is unaffected.
 *
 * The chain is composed once per method at start-up, so `next` is a fixed function and no
 * closure is made per call. Pass `next` the ctx you were given (it is the transport's context);
 * what an interceptor adds to the call goes in `ctx.values` under a key it owns (createContextKey).
 */
export interface Interceptor {
  readonly name: string;
  /** Called once per method at start-up; return false to leave this method out. */
  appliesTo?(method: MethodInfo): boolean;
  intercept?(ctx: CallContext, next: Next): Promise<void>;
  /** The call reached cfg (before any `intercept`). Outermost first. */
  onStart?(ctx: CallContext): void;
  /** The call's status was sent. Innermost first, as wrapped calls unwind. */
  onEnd?(ctx: CallContext, end: CallEnd): void;
  /** Called once after the server has drained its calls (graceful shutdown): flush, stop timers. */
  close?(): void | Promise<void>;
}

/** True for an object with at least one of the hooks above (the config checks grpc.server.interceptors with it). */
export function isInterceptor(value: unknown): value is Interceptor {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.intercept === 'function' || typeof v.onEnd === 'function' || typeof v.onStart === 'function';
}

/** One method's chain, resolved at start-up. */
export interface MethodChain {
  /** Runs the wrapping interceptors around the terminal step. */
  readonly run: Next;
  /** `onStart` observers, outermost first (empty when none). */
  readonly starts: readonly Interceptor[];
  /** `onEnd` observers, innermost first (empty when none). */
  readonly ends: readonly Interceptor[];
}

/** Composes interceptors around a terminal step, outermost first, skipping those that do not apply. */
export function compose(method: MethodInfo, interceptors: readonly Interceptor[], terminal: Next): MethodChain {
  const applicable = interceptors.filter((i) => !i.appliesTo || i.appliesTo(method));
  let run = terminal;
  for (let i = applicable.length - 1; i >= 0; i--) {
    const interceptor = applicable[i]!;
    if (!interceptor.intercept) continue;
    const inner = run;
    run = (ctx) => interceptor.intercept!(ctx, inner);
  }
  return {
    run,
    starts: applicable.filter((i) => i.onStart),
    ends: applicable.filter((i) => i.onEnd).reverse(),
  };
}
