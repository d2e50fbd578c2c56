import type { MethodDefinition } from '@grpc/grpc-js';

// Serialized message sizes, measured where grpc-js already holds the bytes: no message is
// encoded twice. Only servers that record them (grpc.requestLog on) wrap their definitions.

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
 * Runs `send` (which makes grpc-js serialize one response synchronously) and returns the size it
 * serialized, or null when nothing was (a cancelled call).
 */
export function measureResponse(send: () => void): number | null {
  lastResponseSize = -1;
  send();
  const size = lastResponseSize;
  lastResponseSize = -1;
  return size < 0 ? null : size;
}
