// grpc.server.interceptors holds interceptor objects (or module references to them). The call core
// defines them and sits below the config in the layer order, so the config takes type and check
// from there.
import { isInterceptor, type Interceptor } from '../call/interceptor.ts';

/** An interceptor object in grpc.server.interceptors. */
export type ConfigInterceptor = Interceptor;

/** True for an object with at least one hook: intercept, onStart or onEnd. */
export const isInterceptorObject: (value: unknown) => value is ConfigInterceptor = isInterceptor;
