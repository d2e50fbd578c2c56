import type {
  sendUnaryData,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedHandleCall,
} from '@grpc/grpc-js';
import type { BoundMethod } from '../../call/invoke.ts';
import { ServerCallContext } from './call-context.ts';

/**
 * Builds the grpc-js handler for one method: the call core's bound method (src/call/invoke.ts,
 * bound once per method by the server, and shared with the web listener) behind the handler shape
 * grpc-js wants for its kind. Per call: a ServerCallContext, and the request (or the request
 * stream) handed to the core as the method's input.
 */
export function createHandler(bound: BoundMethod, serverSignal: AbortSignal): UntypedHandleCall {
  const info = bound.info;
  switch (info.kind) {
    case 'unary':
      return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
        bound.invoke(new ServerCallContext(info, call, callback, serverSignal), call.request);
    case 'clientStream':
      return (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) =>
        bound.invoke(new ServerCallContext(info, call, callback, serverSignal), requestsOf(call));
    case 'serverStream':
      return (call: ServerWritableStream<unknown, unknown>) =>
        bound.invoke(new ServerCallContext(info, call, undefined, serverSignal), call.request);
    case 'bidi':
      return (call: ServerDuplexStream<unknown, unknown>) =>
        bound.invoke(new ServerCallContext(info, call, undefined, serverSignal), requestsOf(call));
  }
}

/**
 * The request stream as an async iterable that leaves the call open when the loop ends: a plain
 * `for await` over the call itself destroys it at the end, and with it the bidi response side.
 */
function requestsOf(call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>): AsyncIterable<unknown> {
  return { [Symbol.asyncIterator]: () => call.iterator({ destroyOnReturn: false }) };
}
