import type { CfgConfig } from '../config/types.ts';
import type { Interceptor } from '../interceptors/types.ts';

/** Placeholder until the auth issue lands: lets every call through anonymously. */
export async function createAuthInterceptor(_config: CfgConfig): Promise<Interceptor> {
  return { name: 'auth', intercept: (ctx, next) => next(ctx) };
}
