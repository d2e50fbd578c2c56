// Raw HTTP/2 gRPC calls (node:http2), for sending what no well-behaved client sends.
import http2 from 'node:http2';

export interface RawReply {
  status: string | undefined;
  message: string;
  body: Buffer;
  headers: http2.IncomingHttpHeaders;
}

/** A gRPC message frame; `flag` and `length` may lie on purpose. */
export function frame(payload: Uint8Array, options: { flag?: number; length?: number } = {}): Buffer {
  const b = Buffer.alloc(5 + payload.length);
  b[0] = options.flag ?? 0;
  b.writeUInt32BE(options.length ?? payload.length, 1);
  Buffer.from(payload).copy(b, 5);
  return b;
}

/** One call on `session` sending `body` as is; resolves with grpc-status (headers or trailers). */
export function rawCall(
  session: http2.ClientHttp2Session,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<RawReply> {
  return new Promise((resolve) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (head = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('trailers', (t) => (trailers = t));
    req.on('error', () => {});
    req.setTimeout(timeoutMs, () => req.close(http2.constants.NGHTTP2_CANCEL));
    req.on('close', () => {
      const status = (trailers['grpc-status'] ?? head['grpc-status']) as string | undefined;
      const message = decodeURIComponent(String(trailers['grpc-message'] ?? head['grpc-message'] ?? ''));
      resolve({ status, message, body: Buffer.concat(chunks), headers: head });
    });
    req.end(body);
  });
}

/** Every kind of malformed request body, by name. */
export function badBodies(validMessage: Uint8Array, maxReceive: number): Record<string, Buffer> {
  // 0x0f is field 1 with wire type 7, which does not exist: no decoder can accept these bytes.
  const random = Buffer.concat([Buffer.from([0x0f]), Buffer.from(Array.from({ length: 63 }, (_, i) => (i * 97 + 13) % 256))]);
  return {
    'random protobuf bytes': frame(random),
    'truncated protobuf': frame(
      validMessage.length > 1 ? validMessage.subarray(0, validMessage.length - 1) : Buffer.from([0x0a, 0x05, 0x41]),
    ),
    'length prefix longer than the body': Buffer.concat([frame(validMessage, { length: validMessage.length + 50 })]),
    'length prefix shorter than the body': frame(Buffer.concat([Buffer.from(validMessage), Buffer.from([0xff, 0xff, 0xff])]), {
      length: 1,
    }),
    'compressed flag without grpc-encoding': frame(validMessage, { flag: 1 }),
    'oversize message': frame(Buffer.alloc(maxReceive + 1024, 0x41)),
    'a frame header cut short': Buffer.from([0, 0, 0]),
  };
}
