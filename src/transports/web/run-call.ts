// The end every web protocol shares once it has a request's message bytes: inflate them when they
// are compressed, decode them (binary, or canonical JSON), and run the bound method on the call
// the protocol makes (Connect unary or streaming, gRPC-Web), through the call core.
import { type GrpcError, Status } from '../../call/error.ts';
import { inflate } from './body.ts';
import type { Exchange } from './exchange.ts';
import type { WebRoute, WebScope } from './route.ts';
import type { WebCall, WebCallInit } from './web-call.ts';

/** How one request's message is read and answered. */
export interface WebRequest {
  /** The message is canonical JSON (else binary protobuf). */
  readonly json: boolean;
  /** Milliseconds the client gave the call, or undefined. */
  readonly timeoutMs: number | undefined;
  /** The client accepts gzip responses. */
  readonly gzip: boolean;
  /** Names the message's place in a decode error ('"message" query parameter: '); default none. */
  readonly where?: string;
  /** The protocol's call for this request. */
  call(init: WebCallInit): WebCall;
}

/**
 * Inflates `payload` when `compressed` (bounded by grpc.server.maxReceiveMessageLength), decodes
 * it and invokes the method. A message that does not inflate or decode ends with `fail`:
 * INVALID_ARGUMENT unless the codec said otherwise.
 */
export function runWebCall(
  ex: Exchange,
  route: WebRoute,
  scope: WebScope,
  payload: Buffer,
  compressed: boolean,
  request: WebRequest,
  fail: (code: Status, message: string) => void,
): void {
  const run = (bytes: Buffer) => {
    let message: unknown;
    try {
      message = request.json ? route.codec.fromJson(bytes.toString('utf8')) : route.codec.decode(bytes);
    } catch (e) {
      fail((e as GrpcError).code ?? Status.INVALID_ARGUMENT, `${request.where ?? ''}${(e as Error).message}`);
      return;
    }
    const init: WebCallInit = {
      method: route.bound.info,
      codec: route.codec,
      exchange: ex,
      baseHeaders: scope.baseHeaders,
      serverSignal: scope.serverSignal,
      requestSize: bytes.length,
      timeoutMs: request.timeoutMs,
      gzip: request.gzip,
      settled: scope.settled,
    };
    route.bound.invoke(request.call(init), message);
  };
  if (compressed) inflate(payload, scope.receiveLimit, (e, out) => (e ? fail(e.code, e.message) : run(out)));
  else run(payload);
}
