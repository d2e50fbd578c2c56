import type { MethodDefinition } from '@grpc/grpc-js';

// Serialized message sizes, measured where grpc-js already holds the bytes: no message is
// encoded twice. Only servers that record them (grpc.requestLog on) wrap their definitions.
// The call core never sees this: ServerCallContext reports a request's size as ctx.requestSize
// and returns a response's from sendResponse, which the core hands to the onEnd observers.

/** Request message -> its size in bytes, set as grpc-js decodes it. */
const requestSizes = new WeakMap<object, number>();
/** Size of the response grpc-js serialized last: it serializes synchronously inside sendMessage. */
let lastResponseSize = -1;

/** A copy of `def` whose (de)serializers note the sizes they see. */
export function measured(def: MethodDefinition<unknown, unknown>): MethodDefinition<unknown, unknown> {
  const decode = def.requestDeserialize;
  const encode = def.responseSerialize;
  return {
    ...def,
    requestDeserialize(bytes: Buffer) {
      const message = decode(bytes);
      if (typeof message === 'object' && message !== null) requestSizes.set(message, bytes.length);
      return message;
    },
    responseSerialize(message: unknown) {
      const bytes = encode(message);
      lastResponseSize = bytes.length;
      return bytes;
    },
  };
}

/** The serialized size of a request message decoded through a measured definition, or null. */
export function requestSize(message: unknown): number | null {
  return typeof message === 'object' && message !== null ? (requestSizes.get(message) ?? null) : null;
}

/**
 * Brackets one synchronous send (ServerCallContext.sendResponse): `expectResponse()`, then the
 * grpc-js call that serializes the response (the callback of a unary call serializes inside it),
 * then `takeResponseSize()` for the size it serialized, or null when nothing was (a cancelled
 * call, an unmeasured definition). Nothing can run between the two, so one variable serves every
 * call: a size never outlives the send it was measured in.
 */
export function expectResponse(): void {
  lastResponseSize = -1;
}

export function takeResponseSize(): number | null {
  const size = lastResponseSize;
  lastResponseSize = -1;
  return size < 0 ? null : size;
}
