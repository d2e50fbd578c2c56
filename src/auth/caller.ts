import type { CallContext } from '../call/context.ts';
import { createContextKey } from '../call/values.ts';
import type { AuthInfo, AuthUser } from './types.ts';

/** Who is calling, as the auth interceptor established it. */
export interface Caller {
  readonly user: AuthUser;
  /** How they proved it (a JWT, an API key). */
  readonly auth: AuthInfo;
}

/**
 * The auth interceptor's per-call value: the caller, or null (the default) for an anonymous call
 * or one that did not cross the auth interceptor. Read it with `userOf(ctx)` / `authOf(ctx)`, or
 * in a service with BaseService's helpers (`this.getUser(ctx)`, `this.requireUser(ctx)`, ...).
 */
export const CALLER = createContextKey<Caller | null>('cfg.auth.caller', null);

/** The authenticated user of the call, or null for an anonymous caller. */
export function userOf(ctx: CallContext): AuthUser | null {
  return ctx.values.get(CALLER)?.user ?? null;
}

/** How the caller authenticated (`{ kind: 'jwt', claims }` or `{ kind: 'apiKey', keyId }`), or null. */
export function authOf(ctx: CallContext): AuthInfo | null {
  return ctx.values.get(CALLER)?.auth ?? null;
}
