// The Connect protocol (https://connectrpc.com/docs/protocol): unary calls as plain HTTP (POST, or
// GET for methods without side effects), the body the message in binary or JSON, errors as JSON
// with an HTTP status; server streaming as enveloped messages ending with an end-stream message.
import type { OutgoingHttpHeaders } from 'node:http';
import { gzip, gzipSync } from 'node:zlib';
import { GrpcError, Status, type CallStatus } from '../../call/error.ts';
import { getLogger } from '../../log/logger.ts';
import { readBody } from './body.ts';
import { decodeBase64Param, envelope, FLAG_COMPRESSED, FLAG_END_STREAM, singleEnvelope } from './envelope.ts';
import type { Exchange } from './exchange.ts';
import { acceptsGzip, COMPRESS_MIN_BYTES, CONNECT_HTTP_STATUS, connectErrorJson, connectTimeout, type WireFormat } from './protocol.ts';
import type { WebRoute, WebScope } from './route.ts';
import { runWebCall } from './run-call.ts';
import { metadataEntries, WebCall, type WebCallInit } from './web-call.ts';

const log = getLogger('grpc.web');

/** Answers a request that did not become a call with a Connect unary error. */
export function connectError(
  ex: Exchange,
  scope: Pick<WebScope, 'baseHeaders'>,
  code: Status,
  message: string,
  extra?: OutgoingHttpHeaders,
): void {
  const headers: OutgoingHttpHeaders = { ...scope.baseHeaders, ...extra, 'content-type': 'application/json' };
  ex.respond(CONNECT_HTTP_STATUS[code] ?? 500, headers, connectErrorJson(code, message));
}

/** The end-stream message of a Connect stream: the error, if any, and the trailers. */
function endStreamJson(status: CallStatus | undefined, trailers: [string, string[]][]): string {
  const parts: string[] = [];
  if (status) parts.push(`"error":${connectErrorJson(status.code, status.message)}`);
  if (trailers.length) parts.push(`"metadata":${JSON.stringify(Object.fromEntries(trailers))}`);
  return `{${parts.join(',')}}`;
}

class ConnectUnaryCall extends WebCall {
  constructor(
    init: WebCallInit,
    private readonly json: boolean,
    private readonly sendLimit: number,
  ) {
    super(init);
  }

  get protocol(): 'connect' {
    return 'connect';
  }

  sendResponse(message: unknown): number | null {
    if (this.closed) return null;
    let body: Buffer;
    try {
      body = this.json ? Buffer.from(this.codec.toJson(message)) : this.codec.encode(message);
    } catch (err) {
      log.error(`${this.method.path}: the response could not be serialized`, { error: (err as Error).message });
      this.sendError({ code: Status.INTERNAL, message: 'Response message could not be serialized', metadata: undefined });
      return null;
    }
    if (body.length > this.sendLimit) {
      this.sendError({
        code: Status.RESOURCE_EXHAUSTED,
        message: `Response message of ${body.length} bytes is over the send limit of ${this.sendLimit} (grpc.server.maxSendMessageLength)`,
        metadata: undefined,
      });
      return null;
    }
    const headers = this.responseHeaders(this.json ? 'application/json' : 'application/proto');
    if (this.trailers) for (const [key, values] of metadataEntries(this.trailers)) headers[`trailer-${key}`] = values;
    const size = body.length;
    if (this.gzip && size >= COMPRESS_MIN_BYTES) {
      headers['content-encoding'] = 'gzip';
      gzip(body, (err, zipped) => {
        if (err) this.exchange.destroy();
        else this.exchange.respond(200, headers, zipped);
      });
    } else this.exchange.respond(200, headers, body);
    return size;
  }

  sendError(status: CallStatus): void {
    if (this.closed) return;
    const headers = this.responseHeaders('application/json');
    for (const [key, values] of metadataEntries(status.metadata)) headers[key] = values;
    if (this.trailers) for (const [key, values] of metadataEntries(this.trailers)) headers[`trailer-${key}`] = values;
    this.exchange.respond(CONNECT_HTTP_STATUS[status.code] ?? 500, headers, connectErrorJson(status.code, status.message));
  }

  write(): boolean {
    throw new Error('a unary call has no response stream');
  }

  end(): void {
    throw new Error('a unary call has no response stream');
  }
}

class ConnectStreamCall extends WebCall {
  constructor(
    init: WebCallInit,
    private readonly format: WireFormat,
    private readonly sendLimit: number,
  ) {
    super(init);
  }

  get protocol(): 'connect' {
    return 'connect';
  }

  sendResponse(): number | null {
    throw new Error('a server-streaming call answers with write() and end()');
  }

  private begin(): void {
    if (!this.headersSent) {
      const headers = this.responseHeaders(this.format.contentType);
      if (this.gzip) headers['connect-content-encoding'] = 'gzip';
      this.exchange.start(200, headers);
    }
  }

  write(message: unknown): boolean {
    if (this.closed) return true;
    let payload: Buffer = this.format.json ? Buffer.from(this.codec.toJson(message)) : this.codec.encode(message);
    if (payload.length > this.sendLimit)
      throw new GrpcError(
        Status.RESOURCE_EXHAUSTED,
        `Response message of ${payload.length} bytes is over the send limit of ${this.sendLimit} (grpc.server.maxSendMessageLength)`,
      );
    let flags = 0;
    if (this.gzip && payload.length >= COMPRESS_MIN_BYTES) {
      payload = gzipSync(payload);
      flags = FLAG_COMPRESSED;
    }
    this.begin();
    return this.exchange.write(envelope(flags, payload));
  }

  end(): void {
    this.finishWith(undefined);
  }

  sendError(status: CallStatus): void {
    this.finishWith(status);
  }

  private finishWith(status: CallStatus | undefined): void {
    if (this.closed) return;
    this.begin();
    const trailers = [...metadataEntries(status?.metadata), ...metadataEntries(this.trailers)];
    this.exchange.end(envelope(FLAG_END_STREAM, Buffer.from(endStreamJson(status, trailers))));
  }
}

/** Connect unary (POST) and Connect server streaming: reads the body, decodes it, runs the call. */
export function serveConnectPost(ex: Exchange, route: WebRoute, format: WireFormat, scope: WebScope): void {
  const headers = ex.headers;
  const timeoutMs = connectTimeout(headers['connect-timeout-ms']);
  const fail = (code: Status, message: string) => failConnect(ex, format, scope, code, message);
  if (Number.isNaN(timeoutMs)) {
    fail(
      Status.INVALID_ARGUMENT,
      `Invalid Connect-Timeout-Ms ${JSON.stringify(headers['connect-timeout-ms'])}: milliseconds, at most 10 digits`,
    );
    return;
  }
  const encoding = format.streaming ? headers['connect-content-encoding'] : headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'gzip' && encoding !== 'identity') {
    fail(Status.UNIMPLEMENTED, `Request compression ${JSON.stringify(encoding)} is not supported: gzip or identity`);
    return;
  }
  const compressed = encoding === 'gzip';
  const limit = format.streaming ? scope.receiveLimit + 5 : scope.receiveLimit;
  const declared = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  readBody(ex.body, limit, declared, scope.deadlines, (err, body) => {
    if (err === null) {
      scope.settled(); // the client went away
      return;
    }
    if (err) {
      ex.closeAfter();
      fail(err.code, err.message);
      return;
    }
    let payload: Buffer;
    let inflateIt = compressed;
    try {
      if (format.streaming) {
        const env = singleEnvelope(body, compressed ? FLAG_COMPRESSED : 0);
        payload = env.payload;
        inflateIt = (env.flags & FLAG_COMPRESSED) !== 0;
      } else payload = body;
    } catch (e) {
      fail((e as GrpcError).code, (e as GrpcError).message);
      return;
    }
    runWebCall(
      ex,
      route,
      scope,
      payload,
      inflateIt,
      {
        json: format.json,
        timeoutMs,
        gzip: acceptsGzip(format.streaming ? headers['connect-accept-encoding'] : headers['accept-encoding']),
        call: (init) =>
          format.streaming
            ? new ConnectStreamCall(init, format, scope.sendLimit)
            : new ConnectUnaryCall(init, format.json, scope.sendLimit),
      },
      fail,
    );
  });
}

/** A Connect GET (`?connect=v1&encoding=json&message=...`): a unary call of a method without side effects. */
export function serveConnectGet(ex: Exchange, route: WebRoute, query: string, scope: WebScope): void {
  const fail = (code: Status, message: string) => {
    connectError(ex, scope, code, message);
    scope.settled();
  };
  if (route.bound.info.kind !== 'unary') {
    fail(
      Status.UNIMPLEMENTED,
      `${route.bound.info.path} is ${route.bound.info.kind === 'serverStream' ? 'server-streaming' : 'streaming'}: GET serves unary methods only`,
    );
    return;
  }
  if (!route.noSideEffects) {
    const message = `${route.bound.info.path} may have side effects: call it with POST (GET serves methods marked idempotency_level = NO_SIDE_EFFECTS)`;
    ex.respond(
      405,
      { ...scope.baseHeaders, allow: 'POST', 'content-type': 'application/json' },
      connectErrorJson(Status.UNIMPLEMENTED, message),
    );
    scope.settled();
    return;
  }
  const params = new URLSearchParams(query);
  const connect = params.get('connect');
  if (connect !== null && connect !== 'v1') {
    fail(Status.INVALID_ARGUMENT, `Unsupported connect=${connect}: v1`);
    return;
  }
  const encoding = params.get('encoding');
  if (encoding !== 'json' && encoding !== 'proto') {
    fail(Status.INVALID_ARGUMENT, 'Missing or unknown "encoding" query parameter: json or proto');
    return;
  }
  const message = params.get('message');
  if (message === null) {
    fail(Status.INVALID_ARGUMENT, 'Missing "message" query parameter');
    return;
  }
  const compression = params.get('compression');
  if (compression !== null && compression !== 'gzip' && compression !== 'identity') {
    fail(Status.UNIMPLEMENTED, `Request compression ${JSON.stringify(compression)} is not supported: gzip or identity`);
    return;
  }
  const timeoutMs = connectTimeout(ex.headers['connect-timeout-ms']);
  if (Number.isNaN(timeoutMs)) {
    fail(Status.INVALID_ARGUMENT, 'Invalid Connect-Timeout-Ms: milliseconds, at most 10 digits');
    return;
  }
  let bytes: Buffer;
  try {
    bytes = params.get('base64') === '1' ? decodeBase64Param(message) : Buffer.from(message, encoding === 'json' ? 'utf8' : 'latin1');
  } catch (e) {
    fail((e as GrpcError).code, (e as GrpcError).message);
    return;
  }
  if (bytes.length > scope.receiveLimit) {
    fail(
      Status.RESOURCE_EXHAUSTED,
      `Request message of ${bytes.length} bytes is over the receive limit of ${scope.receiveLimit} bytes (grpc.server.maxReceiveMessageLength)`,
    );
    return;
  }
  const json = encoding === 'json';
  runWebCall(
    ex,
    route,
    scope,
    bytes,
    compression === 'gzip',
    {
      json,
      timeoutMs,
      gzip: acceptsGzip(ex.headers['accept-encoding']),
      where: '"message" query parameter: ',
      call: (init) => new ConnectUnaryCall(init, json, scope.sendLimit),
    },
    fail,
  );
}

/** Answers a request that did not become a call, in its protocol's shape (unary: an HTTP error; streaming: an end-stream message). */
export function failConnect(
  ex: Exchange,
  format: WireFormat,
  scope: Pick<WebScope, 'baseHeaders' | 'settled'>,
  code: Status,
  message: string,
): void {
  if (format.streaming) {
    ex.respond(
      200,
      { ...scope.baseHeaders, 'content-type': format.contentType },
      envelope(FLAG_END_STREAM, Buffer.from(endStreamJson({ code, message, metadata: undefined }, []))),
    );
  } else connectError(ex, scope, code, message);
  scope.settled();
}
