// Response compression for @grpc/grpc-js servers.
//
// grpc-js 1.14 decompresses requests but never compresses a response: its server always writes
// the message's compressed flag as 0 (grpc/grpc-node issue 1823, open). This module adds what
// grpc-js would do if it had the feature, at the two places where the library decides it:
//   1. when a call starts, the server's `grpc.default_compression_algorithm` (set from
//      grpc.server.compression) is chosen for that call if the client's `grpc-accept-encoding`
//      lists it (the negotiation the gRPC compression spec describes);
//   2. the response headers then carry `grpc-encoding: <algorithm>`, and each message is
//      compressed with its flag set to 1.
// Calls of servers without the option, and clients that do not accept the algorithm, take
// grpc-js's own path untouched. The grpc-js version is pinned exactly in package.json; if its
// internals change shape, install() reports false and responses stay uncompressed (never wrong).
import { deflateSync, gzipSync } from 'node:zlib';
import { Metadata } from '@grpc/grpc-js';
import { serverInterceptors, type BaseCall } from './grpc-internals.ts';

type Algorithm = 'gzip' | 'deflate';

/** grpc.default_compression_algorithm values (grpc core's enum) and their encodings. */
const BY_OPTION: Record<number, Algorithm | undefined> = { 1: 'deflate', 2: 'gzip' };
const COMPRESS: Record<Algorithm, (b: Buffer) => Buffer> = { gzip: gzipSync, deflate: deflateSync };

/** The algorithm chosen for each call's HTTP/2 stream. */
const chosen = new WeakMap<object, Algorithm>();
let installed: boolean | undefined;

/** True if `accept` (a grpc-accept-encoding value) lists `algorithm`. */
export function acceptsEncoding(accept: unknown, algorithm: Algorithm): boolean {
  if (typeof accept !== 'string') return false;
  for (const part of accept.split(',')) if (part.trim().toLowerCase() === algorithm) return true;
  return false;
}

/**
 * Installs response compression into grpc-js (once per process). Returns false when grpc-js's
 * internals are not the ones this was written for; responses then stay uncompressed.
 */
export function installResponseCompression(): boolean {
  if (installed !== undefined) return installed;
  const mod = serverInterceptors();
  installed = mod !== undefined;
  if (!mod) return false;

  const start = mod.getServerInterceptingCall;
  mod.getServerInterceptingCall = function (this: unknown, ...args: unknown[]) {
    const [, stream, headers, , , options] = args as [unknown, object, Record<string, unknown>, unknown, unknown, Record<string, unknown>];
    const algorithm = BY_OPTION[options?.['grpc.default_compression_algorithm'] as number];
    if (algorithm !== undefined && acceptsEncoding(headers['grpc-accept-encoding'], algorithm)) chosen.set(stream, algorithm);
    return start.apply(this, args);
  };

  const proto = mod.BaseServerInterceptingCall.prototype;
  const serialize = proto.serializeMessage;
  const sendMetadata = proto.sendMetadata;
  proto.sendMetadata = function (this: BaseCall, metadata) {
    const algorithm = chosen.get(this.stream);
    if (algorithm === undefined) return sendMetadata.call(this, metadata);
    const headers = metadata ? metadata.clone() : new Metadata();
    headers.set('grpc-encoding', algorithm);
    return sendMetadata.call(this, headers);
  };
  proto.serializeMessage = function (this: BaseCall, value) {
    const algorithm = chosen.get(this.stream);
    if (algorithm === undefined) return serialize.call(this, value);
    const raw = this.handler.serialize(value);
    // Over the send limit, before or after compression: sent as is (flag 0 is valid under any
    // grpc-encoding), so grpc-js's own check answers RESOURCE_EXHAUSTED on the real size.
    const limit = this.maxSendMessageSize;
    if (limit !== -1 && raw.length > limit) return frame(0, raw);
    const body = COMPRESS[algorithm](raw);
    return limit !== -1 && body.length > limit ? frame(0, raw) : frame(1, body);
  };
  return true;
}

/** A length-prefixed gRPC message. */
function frame(flag: 0 | 1, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length + 5);
  out.writeUInt8(flag, 0);
  out.writeUInt32BE(body.length, 1);
  body.copy(out, 5);
  return out;
}
