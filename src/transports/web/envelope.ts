// The envelope both web protocols frame messages in: 1 flag byte, a 4-byte big-endian length, the
// message. Connect streaming marks its end-stream message with 0x02, gRPC-Web its trailers with
// 0x80; 0x01 says the message is compressed.
import { GrpcError, Status } from '../../call/error.ts';

export const FLAG_COMPRESSED = 0x01;
export const FLAG_END_STREAM = 0x02;
export const FLAG_TRAILERS = 0x80;

/** One envelope around `payload`. */
export function envelope(flags: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = flags;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, 5);
  return out;
}

/** A request body's single enveloped message: its flags and bytes. */
export interface Envelope {
  readonly flags: number;
  readonly payload: Buffer;
}

/**
 * The one message of a request body (unary or server-streaming request): exactly one envelope,
 * whole. A short body, a length the body does not hold, a second envelope or an unknown flag is
 * INVALID_ARGUMENT, saying which.
 */
export function singleEnvelope(body: Buffer, allowedFlags: number): Envelope {
  if (body.length < 5) {
    throw new GrpcError(
      Status.INVALID_ARGUMENT,
      body.length === 0
        ? 'Request has no message: expected one enveloped message (5-byte prefix and the message)'
        : `Truncated frame: ${body.length} byte(s), less than the 5-byte prefix`,
    );
  }
  const flags = body[0]!;
  const length = body.readUInt32BE(1);
  if (5 + length > body.length)
    throw new GrpcError(Status.INVALID_ARGUMENT, `Truncated frame: its prefix says ${length} byte(s), ${body.length - 5} arrived`);
  if (5 + length < body.length)
    throw new GrpcError(
      Status.INVALID_ARGUMENT,
      `Request has more than one message (${body.length - 5 - length} byte(s) after the first); this method takes one`,
    );
  if ((flags & ~allowedFlags) !== 0)
    throw new GrpcError(Status.INVALID_ARGUMENT, `Frame flags 0x${flags.toString(16).padStart(2, '0')} are not valid in a request message`);
  return { flags, payload: body.subarray(5) };
}

const BASE64_SEGMENT = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * gRPC-Web text: the body in base64, possibly several padded segments one after the other (a
 * client may encode each frame on its own). Anything but base64 is INVALID_ARGUMENT.
 */
export function decodeBase64Body(text: string): Buffer {
  const clean = text.replace(/[\r\n]/g, '');
  const parts: Buffer[] = [];
  let start = 0;
  while (start < clean.length) {
    let end = clean.indexOf('=', start);
    if (end < 0) end = clean.length;
    else while (end < clean.length && clean[end] === '=') end++;
    const segment = clean.slice(start, end);
    if (segment.length % 4 !== 0 || !BASE64_SEGMENT.test(segment)) {
      throw new GrpcError(Status.INVALID_ARGUMENT, `Bad base64 in the application/grpc-web-text body (at character ${start})`);
    }
    parts.push(Buffer.from(segment, 'base64'));
    start = end;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** The Connect GET `message` parameter with base64=1: base64url or standard, padding optional. */
export function decodeBase64Param(text: string): Buffer {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
    throw new GrpcError(Status.INVALID_ARGUMENT, 'Bad base64 in the "message" query parameter');
  }
  return Buffer.from(text, 'base64url');
}
