// What the web listener knows of each method it serves, and of the server it serves them for.
import type { OutgoingHttpHeaders } from 'node:http';
import type { BoundMethod } from '../../call/invoke.ts';
import type { BodyDeadlines } from './body.ts';
import type { MethodCodec } from './codec.ts';

/** One method as served over the web protocols: bound once (the same chain as the gRPC port). */
export interface WebRoute {
  readonly bound: BoundMethod;
  readonly codec: MethodCodec;
  /** `option idempotency_level = NO_SIDE_EFFECTS`: Connect may call it with GET. */
  readonly noSideEffects: boolean;
}

/** What a protocol handler needs of the listener, per request. */
export interface WebScope {
  readonly serverSignal: AbortSignal;
  /** grpc.server.maxReceiveMessageLength */
  readonly receiveLimit: number;
  /** grpc.server.maxSendMessageLength */
  readonly sendLimit: number;
  readonly deadlines: BodyDeadlines;
  /** Response headers every answer to this request carries (CORS), or undefined. */
  readonly baseHeaders: OutgoingHttpHeaders | undefined;
  /** Called once when the request is answered or abandoned. */
  readonly settled: () => void;
}
