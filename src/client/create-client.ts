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

/** Per-call options of a typed client method. */
export interface ClientCallOptions {
  /** Extra request metadata. */
  metadata?: Record<string, string>;
  /** Absolute deadline, or milliseconds from now when a number below 1e12. */
  deadline?: Date | number;
  /** Cancels the call (the server sees CANCELLED). */
  signal?: AbortSignal;
}

type Req<M> = M extends MethodDefinition<infer R, any> ? R : never; // eslint-disable-line @typescript-eslint/no-explicit-any
type Res<M> = M extends MethodDefinition<any, infer R> ? R : never; // eslint-disable-line @typescript-eslint/no-explicit-any

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
  close(): void;
};

export interface ClientOptions {
  /** Sent as "authorization: Bearer <token>" on every call. */
  token?: string;
  /** Default: insecure (plaintext). */
  credentials?: ChannelCredentials;
  /** Metadata sent on every call. */
  metadata?: Record<string, string>;
  /** grpc-js channel options. */
  channelOptions?: Record<string, string | number>;
}

/** A rejected call: the grpc-js ServiceError, with `code` and `details`. */
export type ClientError = ServiceError;

/**
 * A typed client for a generated definition: unary methods return promises, streaming
 * responses are async iterables. `createClient(CryptoServiceService, 'localhost:50051', { token })`.
 */
export function createClient<D extends ServiceDefinition>(definition: D, address: string, options: ClientOptions = {}): TypedClient<D> {
  const Ctor = makeGenericClientConstructor(definition, 'cfg.Client');
  const raw = new Ctor(address, options.credentials ?? grpcCredentials.createInsecure(), options.channelOptions ?? {}) as Client &
    Record<string, (...args: unknown[]) => unknown>;
  const base: Record<string, string> = { ...options.metadata };
  if (options.token) base.authorization = `Bearer ${options.token}`;

  const prepare = (opts: ClientCallOptions | undefined): [Metadata, CallOptions] => {
    const md = new Metadata();
    for (const [k, v] of Object.entries({ ...base, ...opts?.metadata })) md.set(k, v);
    const callOptions: CallOptions = {};
    if (opts?.deadline !== undefined) {
      callOptions.deadline = typeof opts.deadline === 'number' && opts.deadline < 1e12 ? Date.now() + opts.deadline : opts.deadline;
    }
    return [md, callOptions];
  };
  const onAbort = (signal: AbortSignal | undefined, call: { cancel(): void }) => {
    if (!signal) return;
    if (signal.aborted) call.cancel();
    else signal.addEventListener('abort', () => call.cancel(), { once: true });
  };
  const feed = async (stream: { write(m: unknown): boolean; end(): void; once(e: string, f: () => void): unknown }, requests: AsyncIterable<unknown> | Iterable<unknown>) => {
    for await (const r of requests as AsyncIterable<unknown>) {
      if (!stream.write(r)) await new Promise<void>((resolve) => stream.once('drain', resolve));
    }
    stream.end();
  };

  const client: Record<string, unknown> = {
    raw,
    close: () => raw.close(),
  };
  for (const [key, def] of Object.entries(definition)) {
    const method = raw[key]!.bind(raw);
    if (!def.requestStream && !def.responseStream) {
      client[key] = (request: unknown, opts?: ClientCallOptions) =>
        new Promise((resolve, reject) => {
          const [md, co] = prepare(opts);
          const call = method(request, md, co, (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res))) as { cancel(): void };
          onAbort(opts?.signal, call);
        });
    } else if (def.requestStream && !def.responseStream) {
      client[key] = (requests: AsyncIterable<unknown>, opts?: ClientCallOptions) =>
        new Promise((resolve, reject) => {
          const [md, co] = prepare(opts);
          const call = method(md, co, (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res))) as Parameters<typeof feed>[0] & { cancel(): void };
          onAbort(opts?.signal, call);
          feed(call, requests).catch(reject);
        });
    } else {
      client[key] = (input: unknown, opts?: ClientCallOptions) => {
        const [md, co] = prepare(opts);
        const call = (def.requestStream ? method(md, co) : method(input, md, co)) as AsyncIterable<unknown> & Parameters<typeof feed>[0] & { cancel(): void };
        onAbort(opts?.signal, call);
        if (def.requestStream) void feed(call, input as AsyncIterable<unknown>).catch(() => call.cancel());
        return call;
      };
    }
  }
  return client as TypedClient<D>;
}
