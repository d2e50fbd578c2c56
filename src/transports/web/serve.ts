// The web listener for a server's bound methods: one route per method (the same BoundMethod the
// gRPC port runs, so the same chain), the JSON codecs from the descriptor set's registry.
import type { FileRegistry } from '@bufbuild/protobuf';
import type { BoundMethod } from '../../call/invoke.ts';
import type { CfgConfig } from '../../config/types.ts';
import { methodCodec, type MethodSerializers } from './codec.ts';
import { CorsPolicy } from './cors.ts';
import { openWebListener, type WebListener } from './listener.ts';
import type { WebRoute } from './route.ts';
import { WebRouter } from './router.ts';

export type { WebListener } from './listener.ts';

/** A method as the server registered it: bound once, with the generated definition's serializers. */
export interface ServedMethod {
  readonly bound: BoundMethod;
  readonly definition: MethodSerializers;
}

/** NO_SIDE_EFFECTS in google.protobuf.MethodOptions.IdempotencyLevel. */
const NO_SIDE_EFFECTS = 1;

/** Routes by path ("/crypto.CryptoService/GetCoin"); JSON where the registry describes the method. */
export function webRoutes(methods: readonly ServedMethod[], registry: FileRegistry | undefined): Map<string, WebRoute> {
  const routes = new Map<string, WebRoute>();
  for (const { bound, definition } of methods) {
    const desc = registry?.getService(bound.info.service)?.methods.find((m) => m.name === bound.info.name);
    routes.set(bound.info.path, {
      bound,
      codec: methodCodec(definition, registry, desc?.input, desc?.output),
      noSideEffects: desc?.idempotency === NO_SIDE_EFFECTS,
    });
  }
  return routes;
}

export interface WebServeOptions {
  readonly config: CfgConfig;
  readonly methods: readonly ServedMethod[];
  /** The descriptor set's registry (JSON); without it, binary content types only. */
  readonly registry: FileRegistry | undefined;
  /** Aborts every call (forced shutdown). */
  readonly serverSignal: AbortSignal;
  readonly host: string;
  readonly port: number;
}

/** Binds the web port and serves `methods` over gRPC-Web and Connect. */
export async function serveWeb(options: WebServeOptions): Promise<WebListener> {
  const { config } = options;
  const auth = config.grpc.auth;
  const router = new WebRouter({
    routes: webRoutes(options.methods, options.registry),
    cors: new CorsPolicy(config.grpc.web.cors, [auth.tokenHeader, auth.apiKeyHeader]),
    web: config.grpc.web,
    receiveLimit: config.grpc.server.maxReceiveMessageLength,
    sendLimit: config.grpc.server.maxSendMessageLength,
    serverSignal: options.serverSignal,
  });
  return openWebListener(router, config, options.host, options.port);
}
