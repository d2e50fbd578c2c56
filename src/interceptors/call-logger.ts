import { getLogger } from '../log/logger.ts';
import { statusName } from '../server/grpc-error.ts';
import { classify } from '../server/status.ts';
import type { Interceptor } from './types.ts';

/**
 * One line per call on the "grpc.calls" logger: the method, then status, durationMs and peer
 * (and the user when one is authenticated). OK calls log at info, failures at warn, so
 * `logging.levels: { 'grpc.calls': 'warn' }` keeps only the failures.
 */
export function callLogger(): Interceptor {
  const log = getLogger('grpc.calls');
  return {
    name: 'call-logger',
    async intercept(ctx, next) {
      if (!log.isEnabled('warn')) return next(ctx);
      let code = 0;
      try {
        await next(ctx);
      } catch (err) {
        code = classify(err).code;
        throw err;
      } finally {
        if (code !== 0 || log.isEnabled('info')) {
          const fields = {
            status: statusName(code),
            durationMs: Math.round((performance.now() - ctx.startedAt) * 100) / 100,
            peer: ctx.peer,
            user: ctx.user?.username,
          };
          if (code === 0) log.info(ctx.method.path, fields);
          else log.warn(ctx.method.path, fields);
        }
      }
    },
  };
}
