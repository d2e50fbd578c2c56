import {
  InterceptingCall,
  Metadata,
  status as Status,
  type Interceptor as GrpcInterceptor,
  type InterceptorOptions,
  type NextCall,
  type StatusObject,
} from '@grpc/grpc-js';

/** A call as client middleware sees it before it is sent. */
export interface ClientCall {
  /** The method path, `/crypto.CryptoService/GetCoin`. */
  readonly method: string;
  /** The request metadata: middleware may set or remove entries in `onStart`. */
  readonly metadata: Metadata;
  /** `Date.now()` when the call started. */
  readonly startedAt: number;
}

/** How a call ended, as `onEnd` is given it. */
export interface ClientCallEnd {
  readonly code: Status;
  readonly details: string;
  /** Milliseconds from the call's start to its status, retries and back-off included. */
  readonly durationMs: number;
  /** The server's address ("127.0.0.1:50051") the final attempt went to, when it reached one. */
  readonly peer: string;
}

/**
 * One link of a client's chain, in the style of the server's interceptors (src/call/interceptor.ts):
 *
 * - `onStart` runs before the call is sent and may change its metadata; it may be async (fetch a
 *   fresh token): the call waits, its messages queued. A throw or rejection fails the call, unsent,
 *   with the error's gRPC `code` when it has one (else UNAUTHENTICATED) and its message.
 * - `onEnd` observes the final status (after grpc-js's retries); it must not throw.
 *
 * Middleware runs outermost first on start and innermost first on end, once per call (not per retry).
 */
export interface ClientMiddleware {
  readonly name: string;
  onStart?(call: ClientCall): void | Promise<void>;
  onEnd?(call: ClientCall, end: ClientCallEnd): void;
}

const codeOf = (err: unknown): Status => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code in Status ? (code as Status) : Status.UNAUTHENTICATED;
};

/** A grpc-js client interceptor running one middleware. */
export function toGrpcInterceptor(middleware: ClientMiddleware): GrpcInterceptor {
  return (options: InterceptorOptions, nextCall: NextCall) => {
    let call: ClientCall | undefined;
    let outer: { onReceiveStatus(status: StatusObject): void } | undefined;
    let started = false;
    let ended = false;
    let intercepting: InterceptingCall;
    const end = (status: StatusObject) => {
      if (ended || !call) return;
      ended = true;
      if (!middleware.onEnd) return;
      try {
        middleware.onEnd(call, {
          code: status.code,
          details: status.details,
          durationMs: Date.now() - call.startedAt,
          peer: started ? intercepting.getPeer() : '',
        });
      } catch {
        // onEnd must not throw; a throw does not change the call.
      }
    };
    const inner = nextCall(options);
    // Ends a call that was never sent: the caller is told, and the unsent call below is cancelled
    // (which clears its deadline timer).
    const fail = (code: Status, details: string) => {
      if (ended || started) return;
      const status: StatusObject = { code, details, metadata: new Metadata() };
      end(status);
      outer?.onReceiveStatus(status);
      inner.cancelWithStatus(code, details);
    };
    intercepting = new InterceptingCall(inner, {
      start(metadata, listener, next) {
        call = { method: options.method_definition.path, metadata, startedAt: Date.now() };
        outer = listener;
        const deadline = options.deadline instanceof Date ? options.deadline.getTime() : (options.deadline ?? Infinity);
        const timer =
          deadline === Infinity
            ? undefined
            : setTimeout(
                () => fail(Status.DEADLINE_EXCEEDED, 'Deadline exceeded before the call was sent'),
                Math.max(0, deadline - Date.now()),
              );
        const go = () => {
          clearTimeout(timer);
          if (ended) return;
          started = true;
          next(metadata, {
            onReceiveStatus(status, nextStatus) {
              end(status);
              nextStatus(status);
            },
          });
        };
        let pending: void | Promise<void>;
        try {
          pending = middleware.onStart?.(call);
        } catch (err) {
          clearTimeout(timer);
          fail(codeOf(err), (err as Error).message);
          return;
        }
        const refuse = (err: unknown) => {
          clearTimeout(timer);
          fail(codeOf(err), err instanceof Error ? err.message : String(err));
        };
        if (pending && typeof pending.then === 'function') pending.then(go, refuse);
        else go();
      },
      cancel(next) {
        // Cancelled while an async onStart was still running: nothing was sent; end it here.
        if (!started) fail(Status.CANCELLED, 'Cancelled on client');
        else next();
      },
    });
    return intercepting;
  };
}

/** Sets these metadata entries on every call (a function is called per call). */
export function metadataMiddleware(entries: Record<string, string> | (() => Record<string, string>)): ClientMiddleware {
  return {
    name: 'metadata',
    onStart(call) {
      for (const [k, v] of Object.entries(typeof entries === 'function' ? entries() : entries)) call.metadata.set(k, v);
    },
  };
}

/** One line per call: its method, status and duration, to `log` (console.log by default). */
export function loggingMiddleware(
  log: (line: string, fields: { method: string; code: Status; durationMs: number; peer: string }) => void = (line) => console.log(line),
): ClientMiddleware {
  return {
    name: 'logging',
    onEnd(call, end) {
      const name = Status[end.code] ?? String(end.code);
      log(`${call.method} ${name} ${end.durationMs} ms${end.peer ? ` ${end.peer}` : ''}`, {
        method: call.method,
        code: end.code,
        durationMs: end.durationMs,
        peer: end.peer,
      });
    },
  };
}

/** A bearer token and when it stops being good (ms since the epoch; omit for "until refused"). */
export interface FreshToken {
  token: string;
  expiresAt?: number;
}

/**
 * `authorization: Bearer <token>` on every call, from `getToken` (say, a refresh-token exchange),
 * called on the first call, again `skewMs` before `expiresAt`, and after a call is refused
 * UNAUTHENTICATED. Concurrent calls share one refresh.
 */
export function authRefreshMiddleware(getToken: () => Promise<FreshToken>, options: { skewMs?: number } = {}): ClientMiddleware {
  const skew = options.skewMs ?? 30_000;
  let current: FreshToken | undefined;
  let refreshing: Promise<FreshToken> | undefined;
  const token = async (): Promise<string> => {
    if (current && (current.expiresAt === undefined || current.expiresAt - skew > Date.now())) return current.token;
    refreshing ??= getToken().finally(() => (refreshing = undefined));
    current = await refreshing;
    return current.token;
  };
  return {
    name: 'auth-refresh',
    async onStart(call) {
      call.metadata.set('authorization', `Bearer ${await token()}`);
    },
    onEnd(call, end) {
      if (end.code === Status.UNAUTHENTICATED && current && call.metadata.get('authorization')[0] === `Bearer ${current.token}`)
        current = undefined;
    },
  };
}
