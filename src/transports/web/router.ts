// The web listener's front door: every request, HTTP/1.1 or HTTP/2, is checked (origin, method,
// content type, path) and handed to its protocol, or answered at once with a clear status. Only a
// request that decodes to a message becomes a call, through the method's bound chain.
import type { OutgoingHttpHeaders } from 'node:http';
import { Status } from '../../call/error.ts';
import type { GrpcWebConfig } from '../../config/types.ts';
import { BodyDeadlines } from './body.ts';
import { connectError, failConnect, serveConnectGet, serveConnectPost } from './connect.ts';
import type { CorsPolicy } from './cors.ts';
import type { Exchange } from './exchange.ts';
import { failGrpcWeb, serveGrpcWeb } from './grpc-web.ts';
import { ACCEPTED_TYPES, wireFormat } from './protocol.ts';
import type { WebRoute, WebScope } from './route.ts';

export interface WebRouterOptions {
  readonly routes: ReadonlyMap<string, WebRoute>;
  readonly cors: CorsPolicy;
  readonly web: GrpcWebConfig;
  readonly receiveLimit: number;
  readonly sendLimit: number;
  readonly serverSignal: AbortSignal;
}

export class WebRouter {
  /** Requests being served (read, run or answered): a drain waits for none. */
  private active = 0;
  private draining = false;
  private idle: (() => void) | undefined;
  private readonly routes: ReadonlyMap<string, WebRoute>;
  private readonly cors: CorsPolicy;
  private readonly deadlines: BodyDeadlines;
  /** The scope of a request that sent no Origin (curl, servers): one object for all of them. */
  private readonly plain: WebScope;
  private readonly settled = () => {
    if (--this.active === 0 && this.idle) this.idle();
  };

  constructor(private readonly options: WebRouterOptions) {
    this.routes = options.routes;
    this.cors = options.cors;
    this.deadlines = new BodyDeadlines(options.web.requestTimeoutMs);
    this.plain = this.scope(undefined);
  }

  get inFlight(): number {
    return this.active;
  }

  private scope(baseHeaders: OutgoingHttpHeaders | undefined): WebScope {
    const o = this.options;
    return {
      serverSignal: o.serverSignal,
      receiveLimit: o.receiveLimit,
      sendLimit: o.sendLimit,
      deadlines: this.deadlines,
      baseHeaders,
      settled: this.settled,
    };
  }

  handle(ex: Exchange): void {
    this.active++;
    const headers = ex.headers;
    const origin = headers.origin;
    let scope = this.plain;
    if (origin !== undefined) {
      if (!this.cors.allows(origin)) {
        ex.respond(
          403,
          { 'content-type': 'text/plain; charset=utf-8' },
          `Origin ${origin} is not allowed to call this server (grpc.web.cors.allowedOrigins)\n`,
        );
        this.settled();
        return;
      }
      scope = this.scope(this.cors.headersFor(origin));
    }
    const method = ex.method;
    if (method === 'OPTIONS') {
      if (origin === undefined || headers['access-control-request-method'] === undefined) {
        ex.respond(204, { allow: 'GET, POST, OPTIONS' });
      } else ex.respond(204, this.cors.preflight(origin));
      this.settled();
      return;
    }
    if (this.draining) {
      ex.closeAfter();
      connectError(ex, scope, Status.UNAVAILABLE, 'Server is shutting down: call again (another server, or this one once it is back)');
      this.settled();
      return;
    }
    const url = ex.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = this.routes.get(path);
    if (method === 'GET') {
      if (!route) {
        connectError(ex, scope, Status.UNIMPLEMENTED, `No method ${path} on this server`);
        this.settled();
        return;
      }
      serveConnectGet(ex, route, q < 0 ? '' : url.slice(q + 1), scope);
      return;
    }
    if (method !== 'POST') {
      ex.respond(
        405,
        { ...scope.baseHeaders, allow: 'GET, POST, OPTIONS', 'content-type': 'text/plain; charset=utf-8' },
        `Method ${method} is not allowed: POST (or GET for methods without side effects)\n`,
      );
      this.settled();
      return;
    }
    const format = wireFormat(headers['content-type']);
    if (!format) {
      ex.closeAfter();
      const got = headers['content-type'] === undefined ? 'no content-type' : `content-type ${JSON.stringify(headers['content-type'])}`;
      ex.respond(
        415,
        { ...scope.baseHeaders, 'accept-post': ACCEPTED_TYPES, 'content-type': 'text/plain; charset=utf-8' },
        `Unsupported ${got}: send one of ${ACCEPTED_TYPES}\n`,
      );
      this.settled();
      return;
    }
    const fail = format.protocol === 'grpc-web' ? failGrpcWeb : failConnect;
    if (!route) {
      ex.closeAfter();
      fail(ex, format, scope, Status.UNIMPLEMENTED, `No method ${path} on this server`);
      return;
    }
    const kind = route.bound.info.kind;
    if (kind === 'clientStream' || kind === 'bidi') {
      ex.closeAfter();
      fail(
        ex,
        format,
        scope,
        Status.UNIMPLEMENTED,
        `${path} is ${kind === 'bidi' ? 'bidirectional' : 'client'}-streaming: the web listener serves unary and server-streaming methods; call it on the gRPC port`,
      );
      return;
    }
    if (format.protocol === 'connect' && format.streaming !== (kind === 'serverStream')) {
      ex.closeAfter();
      const want =
        kind === 'serverStream' ? 'application/connect+proto or application/connect+json' : 'application/proto or application/json';
      ex.respond(
        415,
        { ...scope.baseHeaders, 'content-type': 'text/plain; charset=utf-8' },
        `${path} is ${kind === 'serverStream' ? 'server-streaming' : 'unary'}: send ${want}\n`,
      );
      this.settled();
      return;
    }
    if (format.json && !route.codec.json) {
      ex.closeAfter();
      fail(
        ex,
        format,
        scope,
        Status.UNIMPLEMENTED,
        `JSON is not available for ${path}: its types are not in the descriptor set (run cfg generate-proto); use application/proto`,
      );
      return;
    }
    if (format.protocol === 'grpc-web') serveGrpcWeb(ex, route, format, scope);
    else serveConnectPost(ex, route, format, scope);
  }

  /** Refuses new calls (UNAVAILABLE) and resolves once every request in flight is answered. */
  drain(): Promise<void> {
    this.draining = true;
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }
}
