import {
  type CallOptions,
  type ChannelCredentials,
  type Client,
  credentials as grpcCredentials,
  makeGenericClientConstructor,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import type { ServiceDefinition } from '../services/types.ts';
import type { MethodDefinition } from '@grpc/grpc-js';
import { CfgError } from '../errors.ts';
import { toGrpcInterceptor, type ClientMiddleware } from './middleware.ts';
import { serviceConfigFor, targetOf, type RetryOptions } from './service-config.ts';

/** The call a client call is made for (a server handler's CallContext fits): its deadline and cancellation carry over. */
export interface ParentCall {
  readonly deadline: Date | number;
  readonly signal: AbortSignal;
}

/** Per-call options of a typed client method. */
export interface ClientCallOptions {
  /** Extra request metadata. */
  metadata?: Record<string, string>;
  /** Absolute deadline, or milliseconds from now when a number below 1e12. Overrides the client's `deadlineMs`. */
  deadline?: Date | number;
  /** Cancels the call (the server sees CANCELLED). */
  signal?: AbortSignal;
  /** Made while serving this call: the earlier of the two deadlines applies, and its end cancels this call. */
  parent?: ParentCall;
}

// biome-ignore lint/suspicious/noExplicitAny: matches any generated method; the types users see are inferred from it
type Req<M> = M extends MethodDefinition<infer R, any> ? R : never;
// biome-ignore lint/suspicious/noExplicitAny: matches any generated method; the types users see are inferred from it
type Res<M> = M extends MethodDefinition<any, infer R> ? R : never;

/** The promise / async-iterable form of one method. */
export type ClientMethod<M> = M extends { requestStream: true; responseStream: true }
  ? (requests: AsyncIterable<Req<M>> | Iterable<Req<M>>, options?: ClientCallOptions) => AsyncIterable<Res<M>>
  : M extends { requestStream: true }
    ? (requests: AsyncIterable<Req<M>> | Iterable<Req<M>>, options?: ClientCallOptions) => Promise<Res<M>>
    : M extends { responseStream: true }
      ? (request: Req<M>, options?: ClientCallOptions) => AsyncIterable<Res<M>>
      : (request: Req<M>, options?: ClientCallOptions) => Promise<Res<M>>;

export type TypedClient<D extends ServiceDefinition> = { [K in keyof D]: ClientMethod<D[K]> } & {
  /** The underlying grpc-js client. */
  readonly raw: Client;
  /** The methods this client retries on UNAVAILABLE, as paths (empty: none). */
  readonly retried: ReadonlySet<string>;
  close(): void;
};

export interface ClientOptions {
  /** Sent as "authorization: Bearer <token>" on every call (see authRefreshMiddleware for tokens that expire). */
  token?: string;
  /** Default: insecure (plaintext). */
  credentials?: ChannelCredentials;
  /** Metadata sent on every call. */
  metadata?: Record<string, string>;
  /**
   * The deadline of a unary or client-streaming call that names none, in ms (retries included).
   * Default 30000; 0 for none. Calls that stream responses have no default deadline.
   */
  deadlineMs?: number;
  /**
   * Methods the proto marks idempotent, as paths (`/crypto.CryptoService/GetCoin`): read them
   * from the descriptor set with idempotentMethods('generated/descriptors.binpb'). These, and
   * `retry.methods`, are retried on UNAVAILABLE; no other method ever is.
   */
  idempotent?: Iterable<string>;
  /** How to retry (grpc-js's retry policy and budget); false: never. */
  retry?: RetryOptions | false;
  /** Client middleware, outermost first: metadata, logging, auth refresh (src/client/middleware.ts). */
  middleware?: readonly ClientMiddleware[];
  /** grpc-js channel options, over cfg's (the service config among them). */
  channelOptions?: Record<string, string | number>;
}

/** A rejected call: the grpc-js ServiceError, with `code` and `details`. */
export type ClientError = ServiceError;

/** The methods to retry, as paths, from the definition and options. */
function retriedMethods(definition: ServiceDefinition, options: ClientOptions): Set<string> {
  if (options.retry === false) return new Set();
  const paths = new Map(Object.entries(definition).map(([key, def]) => [key, def.path]));
  const own = new Set(paths.values());
  const out = new Set<string>();
  for (const path of options.idempotent ?? []) if (own.has(path)) out.add(path);
  for (const name of options.retry?.methods ?? []) {
    const path = paths.get(name) ?? (own.has(name) ? name : undefined);
    if (!path)
      throw new CfgError('E_CLIENT_OPTIONS', `retry.methods: "${name}" is not a method of this service (${[...paths.keys()].join(', ')})`);
    out.add(path);
  }
  return out;
}

const toMs = (d: Date | number) => (d instanceof Date ? d.getTime() : d);

/**
 * A typed client for a generated definition: unary methods return promises, streaming
 * responses are async iterables. `createClient(CryptoServiceService, 'localhost:50051', { token })`;
 * several addresses (`['127.0.0.1:50051', '127.0.0.1:50052']`) are balanced round robin.
 */
export function createClient<D extends ServiceDefinition>(
  definition: D,
  address: string | readonly string[],
  options: ClientOptions = {},
): TypedClient<D> {
  const retried = retriedMethods(definition, options);
  const deadlineMs = options.deadlineMs ?? 30_000;
  if (!Number.isFinite(deadlineMs) || deadlineMs < 0)
    throw new CfgError('E_CLIENT_OPTIONS', `deadlineMs: ${deadlineMs} is not a number of ms (0 for none)`);
  const channelOptions: Record<string, unknown> = {
    'grpc.service_config': JSON.stringify(serviceConfigFor([...retried], options.retry || {})),
    'grpc.service_config_disable_resolution': 1,
    'grpc.enable_retries': 1,
    ...options.channelOptions,
    interceptors: (options.middleware ?? []).map(toGrpcInterceptor),
  };
  const Ctor = makeGenericClientConstructor(definition, 'cfg.Client');
  const raw = new Ctor(targetOf(address), options.credentials ?? grpcCredentials.createInsecure(), channelOptions) as Client &
    Record<string, (...args: unknown[]) => unknown>;
  const base: Record<string, string> = { ...options.metadata };
  if (options.token) base.authorization = `Bearer ${options.token}`;

  const prepare = (opts: ClientCallOptions | undefined, streamsResponses: boolean): [Metadata, CallOptions] => {
    const md = new Metadata();
    for (const [k, v] of Object.entries({ ...base, ...opts?.metadata })) md.set(k, v);
    let deadline = Infinity;
    if (opts?.deadline !== undefined)
      deadline = typeof opts.deadline === 'number' && opts.deadline < 1e12 ? Date.now() + opts.deadline : toMs(opts.deadline);
    else if (!streamsResponses && deadlineMs > 0) deadline = Date.now() + deadlineMs;
    if (opts?.parent) deadline = Math.min(deadline, toMs(opts.parent.deadline));
    return [md, deadline === Infinity ? {} : { deadline }];
  };
  const onAbort = (opts: ClientCallOptions | undefined, call: { cancel(): void; once?(e: string, f: () => void): unknown }) => {
    for (const signal of [opts?.signal, opts?.parent?.signal]) {
      if (!signal) continue;
      if (signal.aborted) call.cancel();
      else signal.addEventListener('abort', () => call.cancel(), { once: true });
    }
  };
  // Writes the requests as the transport takes them; stops pulling them (and closes a generator)
  // once the call has ended, whether by its status, a cancel or a deadline.
  const feed = async (
    stream: { write(m: unknown): boolean; end(): void; once(e: string, f: () => void): unknown },
    requests: AsyncIterable<unknown> | Iterable<unknown>,
  ) => {
    let ended = false;
    let wake: (() => void) | undefined;
    stream.once('status', () => {
      ended = true;
      wake?.();
    });
    for await (const r of requests as AsyncIterable<unknown>) {
      if (ended) return;
      if (!stream.write(r)) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          stream.once('drain', resolve);
        });
        wake = undefined;
      }
    }
    if (!ended) stream.end();
  };

  const client: Record<string, unknown> = {
    raw,
    retried,
    close: () => raw.close(),
  };
  for (const [key, def] of Object.entries(definition)) {
    const method = raw[key]!.bind(raw);
    if (!def.requestStream && !def.responseStream) {
      client[key] = (request: unknown, opts?: ClientCallOptions) =>
        new Promise((resolve, reject) => {
          const [md, co] = prepare(opts, false);
          const call = method(request, md, co, (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res))) as {
            cancel(): void;
          };
          onAbort(opts, call);
        });
    } else if (def.requestStream && !def.responseStream) {
      client[key] = (requests: AsyncIterable<unknown>, opts?: ClientCallOptions) =>
        new Promise((resolve, reject) => {
          const [md, co] = prepare(opts, false);
          const call = method(md, co, (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res))) as Parameters<
            typeof feed
          >[0] & { cancel(): void };
          onAbort(opts, call);
          feed(call, requests).catch(reject);
        });
    } else {
      client[key] = (input: unknown, opts?: ClientCallOptions) => {
        const [md, co] = prepare(opts, true);
        const call = (def.requestStream ? method(md, co) : method(input, md, co)) as AsyncIterable<unknown> &
          Parameters<typeof feed>[0] & { cancel(): void };
        onAbort(opts, call);
        if (def.requestStream) void feed(call, input as AsyncIterable<unknown>).catch(() => call.cancel());
        return call;
      };
    }
  }
  return client as TypedClient<D>;
}
