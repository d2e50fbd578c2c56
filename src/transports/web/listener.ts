// The web port: cfg's own net.Server (tls.Server with grpc.server.tls) whose connections go to a
// node:http2 server (h2c by prior knowledge, or "h2" by ALPN) or a node:http server (HTTP/1.1),
// both handing every request to the router. Connection cap, handshake and header timeouts, idle
// connections and drain are held here, as the gRPC port's listener holds them.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { noteArrival, transportNotesArrivals } from '../../call/arrivals.ts';
import type { CfgConfig } from '../../config/types.ts';
import { getLogger } from '../../log/logger.ts';
import { ConnectionCap } from '../grpc/connection-cap.ts';
import { secureContextOptions } from '../grpc/listener.ts';
import { bindAll } from '../listen.ts';
import { H1Exchange, H2Exchange } from './exchange.ts';
import type { WebRouter } from './router.ts';

const log = getLogger('grpc.web');
/** "PRI": how an HTTP/2 connection by prior knowledge starts (its preface); HTTP/1.1 starts with a method. */
const PREFACE = Buffer.from('PRI');
const OPEN_STREAMS = Symbol('cfg.web.openStreams');
type Session = http2.ServerHttp2Session & { [OPEN_STREAMS]?: number };

export interface WebListener {
  readonly port: number;
  readonly secure: boolean;
  /** Connections open now. */
  readonly connections: number;
  /** Stops accepting connections; those open stay. */
  stopAccepting(): void;
  /** Graceful: new calls refused, HTTP/2 connections told to go away, idle ones closed; resolves once every request is answered. */
  drain(): Promise<void>;
  /** Closes every connection now. */
  destroyAll(): void;
}

export async function openWebListener(router: WebRouter, config: CfgConfig, host: string, port: number): Promise<WebListener> {
  const web = config.grpc.web;
  const s = config.grpc.server;
  const cap = new ConnectionCap(log, 'web port', 'grpc.web.maxConnections', web.maxConnections);
  const secure = s.tls ? secureContextOptions(s.tls) : undefined;
  const sessions = new Set<Session>();

  const h2 = http2.createServer({
    settings: { maxConcurrentStreams: s.maxConcurrentStreams },
    maxSessionMemory: 64,
  });
  h2.on('session', (session: Session) => {
    sessions.add(session);
    session[OPEN_STREAMS] = 0;
    session.on('error', (err) => log.debug(`HTTP/2 session: ${err.message}`));
    // No request in flight for idleTimeoutMs (or a preface and nothing after it): closed.
    session.setTimeout(web.idleTimeoutMs, () => {
      if (session[OPEN_STREAMS] === 0) session.close();
    });
    session.once('close', () => sessions.delete(session));
  });
  h2.on('stream', (stream, headers) => {
    noteArrival();
    const session = stream.session as Session;
    session[OPEN_STREAMS]!++;
    stream.once('close', () => session[OPEN_STREAMS]!--);
    stream.on('error', (err) => log.debug(`HTTP/2 stream: ${err.message}`));
    router.handle(new H2Exchange(stream, headers));
  });

  const requestTimeout = Math.max(web.requestTimeoutMs, web.headersTimeoutMs);
  const h1 = http.createServer({
    headersTimeout: web.headersTimeoutMs,
    requestTimeout,
    keepAliveTimeout: web.idleTimeoutMs,
    connectionsCheckingInterval: Math.max(25, Math.min(1000, web.headersTimeoutMs / 4)),
  });
  h1.on('request', (req, res) => {
    noteArrival();
    router.handle(new H1Exchange(req, res));
  });
  transportNotesArrivals();

  /** The first bytes of a plaintext connection say which protocol it speaks. */
  const sniff = (socket: net.Socket) => {
    const deadline = setTimeout(() => {
      log.debug(`connection from ${socket.remoteAddress} sent nothing within ${s.handshakeTimeoutMs} ms: closed`);
      socket.destroy();
    }, s.handshakeTimeoutMs).unref();
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, PREFACE.length);
      const maybeH2 = head.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (maybeH2 && head.length < PREFACE.length) return; // "P" or "PR": wait for the third byte
      clearTimeout(deadline);
      socket.off('data', onData);
      // Put the bytes back for the server that reads them: node:http2 reads what is buffered when
      // its session starts (and must find the socket paused); node:http reads as the socket flows.
      socket.pause();
      socket.unshift(head);
      if (maybeH2) h2.emit('connection', socket);
      else {
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => clearTimeout(deadline));
  };

  const make = (): net.Server => {
    const server = secure
      ? tls.createServer({ ...secure, ALPNProtocols: ['h2', 'http/1.1'], handshakeTimeout: s.handshakeTimeoutMs })
      : net.createServer();
    server.on('connection', (socket: net.Socket) => {
      if (!cap.admit(socket)) return;
      socket.on('error', (err) => log.debug(`connection from ${socket.remoteAddress}: ${err.message}`));
      if (!secure) sniff(socket);
    });
    if (server instanceof tls.Server) {
      server.on('secureConnection', (socket: tls.TLSSocket) => {
        socket.on('error', (err) => log.debug(`TLS connection from ${socket.remoteAddress}: ${err.message}`));
        (socket.alpnProtocol === 'h2' ? h2 : h1).emit('connection', socket);
      });
      server.on('tlsClientError', (err, socket) => {
        log.debug(`TLS handshake from ${socket.remoteAddress} failed: ${err.message}`);
        socket.destroy();
      });
    }
    return server;
  };

  const servers = await bindAll(make, host, port);
  return {
    port: (servers[0]!.address() as net.AddressInfo).port,
    secure: secure !== undefined,
    get connections() {
      return cap.open.size;
    },
    stopAccepting() {
      for (const server of servers) if (server.listening) server.close();
    },
    async drain() {
      const answered = router.drain();
      for (const session of sessions) session.close();
      h1.closeIdleConnections();
      await answered;
      // Answered: HTTP/1.1 connections close after their response (Connection: close), HTTP/2
      // sessions once their last stream ends. Give them a moment to, then close what is left.
      h1.closeIdleConnections();
      const until = Date.now() + 1000;
      while (cap.open.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      for (const socket of cap.open) socket.destroy();
    },
    destroyAll() {
      for (const socket of cap.open) socket.destroy();
    },
  };
}
