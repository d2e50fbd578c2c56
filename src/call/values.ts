/**
 * A typed per-call value: an interceptor declares the key it owns, once, and sets the value on each
 * call; handlers and inner interceptors read it, typed. The auth interceptor's key, for example:
 *
 *     export const CALLER = createContextKey<Caller | null>('cfg.auth.caller', null);
 *     ctx.values.set(CALLER, entry);            // in the interceptor
 *     const caller = ctx.values.get(CALLER);    // anywhere inside it: Caller | null
 *
 * Each key is its own symbol, so two keys never collide, even with the same name. Create keys at
 * module level or in an interceptor's factory, not per call.
 */
export interface ContextKey<T> {
  /** Identifies the key; unique to this key. */
  readonly id: symbol;
  /** For messages and debugging ("cfg.auth.caller"): not what identifies the key. */
  readonly name: string;
  /** What `get` returns on a call where the key was not set. */
  readonly defaultValue: T;
}

export function createContextKey<T>(name: string, defaultValue: T): ContextKey<T> {
  return Object.freeze({ id: Symbol(name), name, defaultValue });
}

/** The values of one call (`ctx.values`). */
export interface ContextValues {
  /** The value set on this call, or the key's default. */
  get<T>(key: ContextKey<T>): T;
  set<T>(key: ContextKey<T>, value: T): this;
  /** True once `set` was called for the key on this call (and not deleted since). */
  has(key: ContextKey<unknown>): boolean;
  /** Back to the key's default. */
  delete(key: ContextKey<unknown>): this;
}
