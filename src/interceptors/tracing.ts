import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapGetter } from '@opentelemetry/api';
import { Status } from '../call/error.ts';
import { classify } from '../call/boundary.ts';
import type { RequestMetadata } from '../call/context.ts';
import type { Interceptor } from '../call/interceptor.ts';

const metadataGetter: TextMapGetter<RequestMetadata> = {
  get(carrier, key) {
    const values = carrier.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
  keys(carrier) {
    return Object.keys(carrier.getMap());
  },
};

/**
 * OpenTelemetry tracing (grpc.server.tracing): one SERVER span per call named
 * "package.Service/Method" with rpc.system ("grpc", or "connect_rpc" for a Connect call),
 * rpc.service, rpc.method, rpc.grpc.status_code and cfg.rpc.protocol ("grpc", "grpc-web", "connect"), continuing the trace context sent in the request metadata
 * (W3C traceparent, or whatever propagator the application registered). Without a registered
 * SDK the API hands out non-recording spans and this interceptor only passes the call on.
 */
export function tracing(options: { tracerName?: string } = {}): Interceptor {
  const tracer = trace.getTracer(options.tracerName ?? 'cfg');
  return {
    name: 'tracing',
    async intercept(ctx, next) {
      const parent = propagation.extract(ROOT_CONTEXT, ctx.metadata, metadataGetter);
      const span = tracer.startSpan(
        `${ctx.method.service}/${ctx.method.name}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'rpc.system': ctx.protocol === 'connect' ? 'connect_rpc' : 'grpc',
            'rpc.service': ctx.method.service,
            'rpc.method': ctx.method.name,
            'cfg.rpc.protocol': ctx.protocol,
          },
        },
        parent,
      );
      if (!span.isRecording()) {
        span.end();
        return next(ctx);
      }
      let code: number = Status.OK;
      try {
        await context.with(trace.setSpan(parent, span), () => next(ctx));
      } catch (err) {
        const grpcError = classify(err);
        code = grpcError.code;
        span.setStatus({ code: SpanStatusCode.ERROR, message: grpcError.message });
        if (code === Status.INTERNAL || code === Status.UNKNOWN)
          span.recordException(grpcError.cause instanceof Error ? grpcError.cause : grpcError);
        throw err;
      } finally {
        span.setAttribute('rpc.grpc.status_code', code);
        span.end();
      }
    },
  };
}
