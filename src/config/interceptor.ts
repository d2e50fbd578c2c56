// grpc.server.interceptors holds interceptor objects, but the config sits below the interceptors
// in the layer order and imports nothing of theirs: it checks an object's shape here, and
// src/interceptors/types.ts gives the type, by adding it to ConfigExtensions:
//
//   declare module '../config/interceptor.ts' {
//     interface ConfigExtensions { interceptor: Interceptor }
//   }

/** Filled in by the layers above the config (module augmentation); empty here. */
// biome-ignore lint/suspicious/noEmptyInterface: a declaration-merging target.
export interface ConfigExtensions {}

/** What the config knows of an interceptor object without its layer: a name and hooks. */
export interface InterceptorShape {
  readonly name: string;
  intercept?(...args: never[]): unknown;
  onStart?(...args: never[]): unknown;
  onEnd?(...args: never[]): unknown;
}

/** An interceptor object in grpc.server.interceptors: the Interceptor of src/interceptors/types.ts. */
export type ConfigInterceptor = ConfigExtensions extends { interceptor: infer I } ? I : InterceptorShape;

/** True for an object with at least one hook: intercept, onStart or onEnd. */
export function isInterceptorObject(value: unknown): value is ConfigInterceptor {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.intercept === 'function' || typeof v.onEnd === 'function' || typeof v.onStart === 'function';
}
