import type { MethodDefinition } from '@grpc/grpc-js';
import type { CallContext } from '../call/context.ts';
import type { StreamWriter } from '../call/invoke.ts';

export type { StreamWriter };

/** A generated service definition (ts-proto's `CryptoServiceService`). */
// biome-ignore lint/suspicious/noExplicitAny: internal glue: any method shape
export type ServiceDefinition = { readonly [key: string]: MethodDefinition<any, any> };

// biome-ignore lint/suspicious/noExplicitAny: matches any generated method; the types users see are inferred from it
type Req<M> = M extends MethodDefinition<infer R, any> ? R : never;
// biome-ignore lint/suspicious/noExplicitAny: matches any generated method; the types users see are inferred from it
type Res<M> = M extends MethodDefinition<any, infer R> ? R : never;

/** unary: one request in, one response out. */
export type UnaryMethod<Q, R> = (request: Q, ctx: CallContext) => Promise<R> | R;
/**
 * server streaming: one request in, many responses out: an async generator (`async *watch(req)`),
 * or an async method taking a writer as its third parameter (`async watch(req, ctx, out)`).
 */
export type ServerStreamMethod<Q, R> =
  | ((request: Q, ctx: CallContext) => AsyncIterable<R>)
  | ((request: Q, ctx: CallContext, out: StreamWriter<R>) => Promise<void>);
/** client streaming: many requests in (async iterable), one response out. */
export type ClientStreamMethod<Q, R> = (requests: AsyncIterable<Q>, ctx: CallContext) => Promise<R> | R;
/** bidi streaming: many in, many out (an async generator, or a writer as for server streaming). */
export type BidiStreamMethod<Q, R> =
  | ((requests: AsyncIterable<Q>, ctx: CallContext) => AsyncIterable<R>)
  | ((requests: AsyncIterable<Q>, ctx: CallContext, out: StreamWriter<R>) => Promise<void>);

/** The handler type of one method of a definition. */
export type MethodImplementation<M> = M extends { requestStream: true; responseStream: true }
  ? BidiStreamMethod<Req<M>, Res<M>>
  : M extends { requestStream: true }
    ? ClientStreamMethod<Req<M>, Res<M>>
    : M extends { responseStream: true }
      ? ServerStreamMethod<Req<M>, Res<M>>
      : UnaryMethod<Req<M>, Res<M>>;

/**
 * What a service class must implement: every RPC of the definition, with its exact request and
 * response types. `class CryptoService extends BaseService implements ServiceImplementation<typeof CryptoServiceService>`
 * does not compile if an RPC is missing, misnamed or mistyped.
 */
export type ServiceImplementation<D extends ServiceDefinition> = {
  [K in keyof D]: MethodImplementation<D[K]>;
};
