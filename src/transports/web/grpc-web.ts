// gRPC-Web (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md): gRPC's framing over any
// HTTP version, the status and trailers in a last frame of the body (flag 0x80) instead of HTTP
// trailers, which browsers cannot read; application/grpc-web-text is the same in base64.
import type { OutgoingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { GrpcError, Status, type CallStatus } from '../../call/error.ts';
import { getLogger } from '../../log/logger.ts';
import { readBody } from './body.ts';
import { decodeBase64Body, envelope, FLAG_COMPRESSED, FLAG_TRAILERS, singleEnvelope } from './envelope.ts';
import type { Exchange } from './exchange.ts';
import { acceptsGzip, COMPRESS_MIN_BYTES, grpcTimeout, type WireFormat } from './protocol.ts';
import type { WebRoute, WebScope } from './route.ts';
import { runWebCall } from './run-call.ts';
import { metadataEntries, WebCall, type WebCallInit } from './web-call.ts';

const log = getLogger('grpc.web');

/** grpc-message: percent-encoded outside printable ASCII (and '%' itself), as gRPC requires. */
function percentEncode(message: string): string {
  return /^[\x20-\x24\x26-\x7e]*$/.test(message)
    ? message
    : Buffer.from(message).reduce(
        (out, byte) =>
          out +
          (byte >= 0x20 && byte <= 0x7e && byte !== 0x25
            ? String.fromCharCode(byte)
            : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`),
        '',
      );
}

/** The trailer frame: grpc-status, grpc-message and the trailing metadata as HTTP/1 header lines. */
function trailerFrame(status: CallStatus | undefined, trailers: [string, string[]][]): Buffer {
  let text = status ? `grpc-status:${status.code}\r\ngrpc-message:${percentEncode(status.message)}\r\n` : 'grpc-status:0\r\n';
  for (const [key, values] of trailers) for (const value of values) text += `${key}:${value}\r\n`;
  return envelope(FLAG_TRAILERS, Buffer.from(text));
}

class GrpcWebCall extends WebCall {
  constructor(
    init: WebCallInit,
    private readonly format: WireFormat & { protocol: 'grpc-web' },
    private readonly sendLimit: number,
  ) {
    super(init);
  }

  get protocol(): 'grpc-web' {
    return 'grpc-web';
  }

  private headersFor(): OutgoingHttpHeaders {
    const headers = this.responseHeaders(this.format.contentType);
    if (this.gzip) headers['grpc-encoding'] = 'gzip';
    return headers;
  }

  /** A message frame (compressed when the client accepts gzip and it is large enough). */
  private frame(message: unknown): Buffer {
    const payload = this.codec.encode(message);
    if (payload.length > this.sendLimit)
      throw new GrpcError(
        Status.RESOURCE_EXHAUSTED,
        `Response message of ${payload.length} bytes is over the send limit of ${this.sendLimit} (grpc.server.maxSendMessageLength)`,
      );
    return this.gzip && payload.length >= COMPRESS_MIN_BYTES ? envelope(FLAG_COMPRESSED, gzipSync(payload)) : envelope(0, payload);
  }

  private out(bytes: Buffer): Buffer | string {
    return this.format.text ? bytes.toString('base64') : bytes;
  }

  sendResponse(message: unknown): number | null {
    if (this.closed) return null;
    let frame: Buffer;
    try {
      frame = this.frame(message);
    } catch (err) {
      if (!(err instanceof GrpcError))
        log.error(`${this.method.path}: the response could not be serialized`, { error: (err as Error).message });
      this.sendError(
        err instanceof GrpcError
          ? { code: err.code, message: err.message, metadata: undefined }
          : { code: Status.INTERNAL, message: 'Response message could not be serialized', metadata: undefined },
      );
      return null;
    }
    const headers = this.headersFor();
    const body = Buffer.concat([frame, trailerFrame(undefined, metadataEntries(this.trailers))]);
    this.exchange.respond(200, headers, this.out(body));
    return frame.length - 5;
  }

  write(message: unknown): boolean {
    if (this.closed) return true;
    const frame = this.frame(message);
    if (!this.headersSent) this.exchange.start(200, this.headersFor());
    return this.exchange.write(this.out(frame));
  }

  end(): void {
    this.finishWith(undefined);
  }

  sendError(status: CallStatus): void {
    this.finishWith(status);
  }

  private finishWith(status: CallStatus | undefined): void {
    if (this.closed) return;
    const trailers = trailerFrame(status, [...metadataEntries(status?.metadata), ...metadataEntries(this.trailers)]);
    if (this.headersSent) this.exchange.end(this.out(trailers));
    else this.exchange.respond(200, this.headersFor(), this.out(trailers));
  }
}

/** Answers a gRPC-Web request that did not become a call: HTTP 200 and a trailer frame with the status. */
export function failGrpcWeb(
  ex: Exchange,
  format: WireFormat,
  scope: Pick<WebScope, 'baseHeaders' | 'settled'>,
  code: Status,
  message: string,
): void {
  const body = trailerFrame({ code, message, metadata: undefined }, []);
  ex.respond(
    200,
    { ...scope.baseHeaders, 'content-type': format.contentType },
    'text' in format && format.text ? body.toString('base64') : body,
  );
  scope.settled();
}

/** A gRPC-Web call (unary or server-streaming): reads the one request frame, decodes it, runs the call. */
export function serveGrpcWeb(ex: Exchange, route: WebRoute, format: WireFormat & { protocol: 'grpc-web' }, scope: WebScope): void {
  const headers = ex.headers;
  const fail = (code: Status, message: string) => failGrpcWeb(ex, format, scope, code, message);
  const timeoutMs = grpcTimeout(headers['grpc-timeout']);
  if (Number.isNaN(timeoutMs)) {
    fail(Status.INVALID_ARGUMENT, `Invalid grpc-timeout ${JSON.stringify(headers['grpc-timeout'])}`);
    return;
  }
  const encoding = headers['grpc-encoding'];
  if (encoding !== undefined && encoding !== 'gzip' && encoding !== 'identity') {
    fail(Status.UNIMPLEMENTED, `Request compression ${JSON.stringify(encoding)} is not supported: gzip or identity`);
    return;
  }
  // One frame: the message and its 5-byte prefix; base64 takes 4 characters for every 3 bytes.
  const frameLimit = scope.receiveLimit + 5;
  const limit = format.text ? Math.ceil(frameLimit / 3) * 4 + 2 : frameLimit;
  const declared = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  readBody(ex.body, limit, declared, scope.deadlines, (err, raw) => {
    if (err === null) {
      scope.settled();
      return;
    }
    if (err) {
      ex.closeAfter();
      fail(err.code, err.message);
      return;
    }
    let payload: Buffer;
    let compressed: boolean;
    try {
      const body = format.text ? decodeBase64Body(raw.toString('latin1')) : raw;
      const env = singleEnvelope(body, encoding === 'gzip' ? FLAG_COMPRESSED : 0);
      payload = env.payload;
      compressed = (env.flags & FLAG_COMPRESSED) !== 0;
    } catch (e) {
      fail((e as GrpcError).code, (e as GrpcError).message);
      return;
    }
    runWebCall(
      ex,
      route,
      scope,
      payload,
      compressed,
      {
        json: false,
        timeoutMs,
        gzip: acceptsGzip(headers['grpc-accept-encoding']),
        call: (init) => new GrpcWebCall(init, format, scope.sendLimit),
      },
      fail,
    );
  });
}
