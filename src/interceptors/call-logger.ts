import { userOf } from '../auth/caller.ts';
import { getLogger } from '../log/logger.ts';
import { statusName } from '../call/error.ts';
import type { Interceptor } from '../call/interceptor.ts';

/**
 * One line per call on the "grpc.calls" logger: the method, then status, durationMs and peer
 * (and the user when one is authenticated). OK calls log at info, failures at warn, so
 * `logging.levels: { 'grpc.calls': 'warn' }` keeps only the failures. An observer: it adds no
 * step to the call.
 */
export function callLogger(): Interceptor {
  const log = getLogger('grpc.calls');
  return {
    name: 'call-logger',
    onEnd(ctx, end) {
      const ok = end.code === 0;
      if (ok ? !log.isEnabled('info') : !log.isEnabled('warn')) return;
      const fields = {
        status: statusName(end.code),
        durationMs: Math.round(end.durationMs * 100) / 100,
        peer: ctx.peer,
        ...(ctx.protocol === 'grpc' ? {} : { protocol: ctx.protocol }),
        user: userOf(ctx)?.username,
      };
      if (ok) log.info(ctx.method.path, fields);
      else log.warn(ctx.method.path, fields);
    },
  };
}
