// One HTTP request and its response, the same to the protocols whether it came over HTTP/2 (a
// node:http2 stream, its core API: no compatibility objects per request) or HTTP/1.1 (node:http).
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants, type ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';

export interface Exchange {
  readonly method: string;
  /** Path and query: "/crypto.CryptoService/GetCoin?connect=v1&...". */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The request body. */
  readonly body: Readable;
  /** "ipv4:127.0.0.1:52011" (as on the gRPC port). */
  readonly peer: string;
  /** True once the response is complete or the client has gone. */
  readonly done: boolean;
  /** Sends a whole response. */
  respond(status: number, headers: OutgoingHttpHeaders, body?: Buffer | string): void;
  /** Sends the status and headers of a response whose body follows (write, end). */
  start(status: number, headers: OutgoingHttpHeaders): void;
  /** False when the buffer is full: wait for `onDrain`. */
  write(chunk: Buffer | string): boolean;
  end(chunk?: Buffer | string): void;
  onDrain(listener: () => void): void;
  offDrain(listener: () => void): void;
  /** Called once if the client goes away (or the stream is reset) before the response is complete. */
  onAbort(listener: () => void): void;
  /** Ends the exchange at once: the response stops where it is. */
  destroy(): void;
  /** After this response, close the connection (HTTP/1.1: Connection: close; HTTP/2: nothing to do per stream). */
  closeAfter(): void;
}

/** "ipv4:127.0.0.1:5000" / "ipv6:[::1]:5000" from a socket's remote address. */
function peerOf(address: string | undefined, port: number | undefined): string {
  if (!address) return 'unknown';
  const host = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return host.includes(':') ? `ipv6:[${host}]:${port}` : `ipv4:${host}:${port}`;
}

/**
 * The end of an HTTP/2 response is an empty trailers frame: with it, node:http2 closes the stream
 * after its last write completed. Ending with the data frame instead closes it before, and then
 * makes an ERR_STREAM_DESTROYED error (with its stack trace) for every response: ~10% of the CPU
 * of a small call.
 */
const WAIT_FOR_TRAILERS = { waitForTrailers: true } as const;
function noTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers({});
}

export class H2Exchange implements Exchange {
  private ended = false;
  private _peer: string | undefined;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
  ) {}

  get method(): string {
    return this.headers[':method'] as string;
  }

  get url(): string {
    return this.headers[':path'] as string;
  }

  get body(): Readable {
    return this.stream;
  }

  get peer(): string {
    if (this._peer === undefined) {
      const socket = this.stream.session?.socket;
      this._peer = peerOf(socket?.remoteAddress, socket?.remotePort);
    }
    return this._peer;
  }

  get done(): boolean {
    return this.ended || this.stream.destroyed || this.stream.closed;
  }

  respond(status: number, headers: OutgoingHttpHeaders, body?: Buffer | string): void {
    if (this.done) return;
    this.ended = true;
    headers[':status'] = status;
    if (body === undefined || body.length === 0) this.stream.respond(headers, { endStream: true });
    else {
      this.stream.respond(headers, WAIT_FOR_TRAILERS);
      this.stream.once('wantTrailers', noTrailers);
      this.stream.end(body);
    }
  }

  start(status: number, headers: OutgoingHttpHeaders): void {
    if (this.done) return;
    headers[':status'] = status;
    this.stream.respond(headers, WAIT_FOR_TRAILERS);
    this.stream.once('wantTrailers', noTrailers);
  }

  write(chunk: Buffer | string): boolean {
    return this.done ? true : this.stream.write(chunk);
  }

  end(chunk?: Buffer | string): void {
    if (this.done) return;
    this.ended = true;
    this.stream.end(chunk);
  }

  onDrain(listener: () => void): void {
    this.stream.on('drain', listener);
  }

  offDrain(listener: () => void): void {
    this.stream.off('drain', listener);
  }

  onAbort(listener: () => void): void {
    this.stream.once('close', () => {
      if (!this.ended || this.stream.rstCode !== constants.NGHTTP2_NO_ERROR) listener();
    });
  }

  destroy(): void {
    this.ended = true;
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_CANCEL);
  }

  closeAfter(): void {}
}

export class H1Exchange implements Exchange {
  private ended = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {}

  get method(): string {
    return this.req.method!;
  }

  get url(): string {
    return this.req.url!;
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  get body(): Readable {
    return this.req;
  }

  get peer(): string {
    return peerOf(this.req.socket.remoteAddress, this.req.socket.remotePort);
  }

  get done(): boolean {
    return this.ended || this.res.destroyed;
  }

  respond(status: number, headers: OutgoingHttpHeaders, body?: Buffer | string): void {
    if (this.done) return;
    this.ended = true;
    headers['content-length'] = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  start(status: number, headers: OutgoingHttpHeaders): void {
    if (this.done) return;
    this.res.writeHead(status, headers);
  }

  write(chunk: Buffer | string): boolean {
    return this.done ? true : this.res.write(chunk);
  }

  end(chunk?: Buffer | string): void {
    if (this.done) return;
    this.ended = true;
    this.res.end(chunk);
  }

  onDrain(listener: () => void): void {
    this.res.on('drain', listener);
  }

  offDrain(listener: () => void): void {
    this.res.off('drain', listener);
  }

  onAbort(listener: () => void): void {
    this.res.once('close', () => {
      if (!this.res.writableFinished) listener();
    });
  }

  destroy(): void {
    this.ended = true;
    this.res.destroy();
  }

  closeAfter(): void {
    this.res.shouldKeepAlive = false;
  }
}
