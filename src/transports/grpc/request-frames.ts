// The compressed flag of request messages, checked as the gRPC spec says (PROTOCOL-HTTP2.md,
// "Length-Prefixed-Message"): the flag is 0 (uncompressed) or 1 (compressed with the call's
// grpc-encoding). grpc-js 1.14 reads any flag other than 1 as 0, and a 1 without a message encoding
// (no grpc-encoding header, or "identity") as uncompressed, so such a message used to be decoded
// and answered OK. Both are protocol errors: the call ends INTERNAL with a message naming the flag.
// The check sits where grpc-js unframes each message (BaseServerInterceptingCall.decompressMessage,
// given the whole frame), before any cfg code or handler sees the call's messages.
import { Status } from '../../call/error.ts';
import { serverInterceptors, type BaseCall } from './grpc-internals.ts';

let installed: boolean | undefined;

/** Why a frame's compressed flag is refused, or null when it is valid under `encoding`. */
export function flagError(flag: number, encoding: string): string | null {
  if (flag > 1)
    return `Protocol error: a message's compressed flag is 0x${flag.toString(16).padStart(2, '0')}; only 0 (uncompressed) and 1 (compressed) are defined`;
  if (flag === 1 && encoding === 'identity')
    return 'Protocol error: a message has compressed flag 1 but the call has no message encoding (grpc-encoding is absent or identity); send flag 0, or set grpc-encoding to the algorithm used';
  return null;
}

/** Installs the check into grpc-js (once per process); false when its internals are not the expected ones. */
export function installRequestFrameCheck(): boolean {
  if (installed !== undefined) return installed;
  const mod = serverInterceptors();
  installed = mod !== undefined;
  if (!mod) return false;
  const proto = mod.BaseServerInterceptingCall.prototype;
  const decompress = proto.decompressMessage;
  proto.decompressMessage = function (this: BaseCall, message: Buffer, encoding: string) {
    const problem = flagError(message.readUInt8(0), encoding);
    // grpc-js sends a rejection's { code, details } as the call's status.
    if (problem) return Promise.reject({ code: Status.INTERNAL, details: problem });
    return decompress.call(this, message, encoding);
  };
  return true;
}
