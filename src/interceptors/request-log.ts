import type { RequestLogWriter } from '../ops/request-log.ts';
import type { ServerCallContext } from '../call/context.ts';
import type { Interceptor } from '../call/interceptor.ts';

/**
 * grpc.requestLog: one row per call (or per sampled call) handed to the batched writer once the
 * call's status is sent. The call only pays for one small object and an array push; the writer
 * inserts rows later, off the call path, and never fails or delays a call.
 */
export function requestLog(writer: RequestLogWriter, options: { sampleRate: number }): Interceptor & { readonly writer: RequestLogWriter } {
  const { sampleRate } = options;
  return {
    name: 'request-log',
    writer,
    onEnd(ctx, end) {
      if (sampleRate < 1 && Math.random() >= sampleRate) return;
      writer.record({
        createdAt: Date.now(),
        service: ctx.method.service,
        method: ctx.method.name,
        code: end.code,
        durationMs: Math.round(end.durationMs * 1000) / 1000,
        peer: ctx.peer,
        userId: ctx.user?.id ?? null,
        apiKeyId: ctx.auth?.keyId ?? null,
        error: end.code === 0 ? null : end.message,
        requestSize: (ctx as ServerCallContext).requestSize ?? null,
        responseSize: end.responseSize,
      });
    },
    close: () => writer.close(),
  };
}
