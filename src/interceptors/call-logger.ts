import { getLogger } from '../log/logger.ts';
import { statusName } from '../server/grpc-error.ts';
import { classify } from '../server/status.ts';
import type { Interceptor } from './types.ts';

/** One line per call: method, status, duration and peer (logger "grpc.calls", level info). */
export function callLogger(): Interceptor {
  const log = getLogger('grpc.calls');
  return {
    name: 'call-logger',
    async intercept(ctx, next) {
      if (!log.isEnabled('info')) return next(ctx);
      let code = 0;
      try {
        await next(ctx);
      } catch (err) {
        code = classify(err).code;
        throw err;
      } finally {
        const ms = performance.now() - ctx.startedAt;
        const fields = { status: statusName(code), ms: Math.round(ms * 100) / 100, peer: ctx.peer, user: ctx.user?.username };
        if (code === 0) log.info(ctx.method.path, fields);
        else log.warn(ctx.method.path, fields);
      }
    },
  };
}
