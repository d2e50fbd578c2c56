import type { CallContext } from '../server/context.ts';
import type { MethodInfo } from '../server/method.ts';

/** Runs the rest of the chain (and finally the handler) for this call. */
export type Next = (ctx: CallContext) => Promise<void>;

/**
 * One link of the chain every call crosses. `intercept` wraps the rest of the call: await
 * `next(ctx)` to run it; throw a GrpcError to end the call with that status. The chain is
 * composed once per method at start-up, so `next` is a fixed function and no closure is
 * made per call.
 */
export interface Interceptor {
  readonly name: string;
  /** Called once per method at start-up; return false to leave this method out. */
  appliesTo?(method: MethodInfo): boolean;
  intercept(ctx: CallContext, next: Next): Promise<void>;
  /** Called once after the server has drained its calls (graceful shutdown): flush, stop timers. */
  close?(): void | Promise<void>;
}

/** Composes interceptors around a terminal step, outermost first, skipping those that do not apply. */
export function compose(method: MethodInfo, interceptors: readonly Interceptor[], terminal: Next): Next {
  let next = terminal;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const interceptor = interceptors[i]!;
    if (interceptor.appliesTo && !interceptor.appliesTo(method)) continue;
    const inner = next;
    next = (ctx) => interceptor.intercept(ctx, inner);
  }
  return next;
}
