import { GrpcError, Status } from '../server/grpc-error.ts';
import type { Interceptor } from './types.ts';

/**
 * maxWorkers on Node: at most `max` calls run at once in this process; up to `queue` more wait
 * their turn; past that a call is refused with RESOURCE_EXHAUSTED instead of piling up memory.
 */
export function concurrencyLimit(options: { max: number; queue?: number }): Interceptor {
  const max = options.max;
  const queueMax = options.queue ?? max * 100;
  if (!Number.isInteger(max) || max < 1) throw new TypeError(`concurrencyLimit: max must be an integer >= 1, got ${max}`);
  let running = 0;
  const waiting: Array<() => void> = [];

  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return {
    name: 'concurrency',
    async intercept(ctx, next) {
      if (running < max) running++;
      else {
        if (waiting.length >= queueMax) {
          throw new GrpcError(Status.RESOURCE_EXHAUSTED, `Server busy: ${max} calls running and ${queueMax} waiting; retry later`);
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      try {
        await next(ctx);
      } finally {
        release();
      }
    },
  };
}
