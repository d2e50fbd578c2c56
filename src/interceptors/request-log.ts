import type { RequestLogWriter } from '../ops/request-log.ts';
import { CALLER } from '../auth/caller.ts';
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
      const caller = ctx.values.get(CALLER);
      writer.record({
        createdAt: Date.now(),
        service: ctx.method.service,
        method: ctx.method.name,
        code: end.code,
        durationMs: Math.round(end.durationMs * 1000) / 1000,
        peer: ctx.peer,
        userId: caller?.user.id ?? null,
        apiKeyId: caller?.auth.keyId ?? null,
        error: end.code === 0 ? null : end.message,
        requestSize: ctx.requestSize,
        responseSize: end.responseSize,
        protocol: ctx.protocol,
      });
    },
    close: () => writer.close(),
  };
}
