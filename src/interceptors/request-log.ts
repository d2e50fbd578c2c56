import type { RequestLogWriter } from '../ops/request-log.ts';
import type { ServerCallContext } from '../server/context.ts';
import { classify } from '../server/status.ts';
import type { Interceptor } from './types.ts';

/**
 * grpc.requestLog: one row per call (or per sampled call) handed to the batched writer. The call
 * only pays for one small object and an array push; the writer inserts rows later, off the call
 * path, and never fails or delays a call.
 */
export function requestLog(writer: RequestLogWriter, options: { sampleRate: number }): Interceptor & { readonly writer: RequestLogWriter } {
  const { sampleRate } = options;
  return {
    name: 'request-log',
    writer,
    async intercept(ctx, next) {
      if (sampleRate < 1 && Math.random() >= sampleRate) return next(ctx);
      let code = 0;
      let error: string | null = null;
      try {
        await next(ctx);
      } catch (err) {
        const status = classify(err);
        code = status.code;
        error = status.message;
        throw err;
      } finally {
        const c = ctx as ServerCallContext;
        const record = {
          createdAt: Date.now(),
          service: ctx.method.service,
          method: ctx.method.name,
          code,
          durationMs: Math.round((performance.now() - ctx.startedAt) * 1000) / 1000,
          peer: ctx.peer,
          userId: ctx.user?.id ?? null,
          apiKeyId: ctx.auth?.keyId ?? null,
          error,
          requestSize: c.requestSize ?? null,
          responseSize: null as number | null,
        };
        // The response is serialized after the chain returns; the adapter fills its size in.
        if (code === 0) c.logRecord = record;
        writer.record(record);
      }
    },
    close: () => writer.close(),
  };
}
