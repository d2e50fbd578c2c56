import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import type { CfgConfig } from '../../config/types.ts';
import { CfgError } from '../../errors.ts';
import { bindAll } from '../listen.ts';
import { getLogger } from '../../log/logger.ts';
import { noteArrival, transportCannotNoteArrivals, transportNotesArrivals } from '../../call/arrivals.ts';
import { ConnectionCap } from './connection-cap.ts';
import { http2ServersOf, takeOverIdleTimeout } from './grpc-internals.ts';
import { closeIdleSessions, type IdleSessions } from './idle-sessions.ts';

const log = getLogger('grpc.server');

/** The HTTP/2 client preface (24 bytes) and a SETTINGS frame header (9): what a client sends first. */
const PREFACE_AND_SETTINGS = 24 + 9;

/** The gRPC port as cfg holds it: its own net/tls servers, whose connections it hands to grpc-js. */
export interface GrpcListener {
  readonly port: number;
  /** Connections open now (TCP connections, TLS handshakes in progress included). */
  readonly connections: number;
  /** Stops accepting; connections already open stay (grpc-js closes them on shutdown). */
  stopAccepting(): void;
  /** Closes every connection still open, at once. */
  destroyAll(): void;
}

/**
 * Binds host:port with cfg's own net.Server (tls.Server with grpc.server.tls) and hands each
 * connection to grpc-js through a connection injector, so that what grpc-js has no setting for
 * is cfg's: a connection that has not finished its TLS handshake, or not sent the HTTP/2 preface
 * and SETTINGS, within handshakeTimeoutMs is closed; past maxConnections open connections, new
 * ones are closed at once (ConnectionCap); a peer that does not close its end within
 * handshakeTimeoutMs of the server closing the connection (idle, age, shutdown) is cut off.
 * Idle connections (no open call for maxConnectionIdleMs) are closed by cfg (idle-sessions.ts),
 * or by grpc-js (max_connection_idle_ms) when its server is not the shape cfg expects.
 */
export async function openGrpcListener(grpc: Server, config: CfgConfig, host: string, port: number): Promise<GrpcListener> {
  const s = config.grpc.server;
  const before = http2ServersOf(grpc);
  const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
  // Each call's arrival, as the injector's HTTP/2 server (the one it added) opens its stream (src/call/arrivals.ts).
  const added = before && http2ServersOf(grpc)?.filter((server) => !before.includes(server));
  const h2 = added?.length === 1 ? added[0] : undefined;
  if (h2) {
    h2.prependListener('stream', noteArrival);
    transportNotesArrivals();
  } else transportCannotNoteArrivals();
  const cap = new ConnectionCap(log, 'gRPC port', 'grpc.server.maxConnections', s.maxConnections);
  const secure = s.tls ? secureContextOptions(s.tls) : undefined;

  const accept = (socket: net.Socket) => {
    if (!cap.admit(socket)) return;
    socket.on('error', (err) => log.debug(`connection from ${socket.remoteAddress}: ${err.message}`));
    if (!secure) handToGrpc(socket);
  };
  /** The socket grpc-js reads HTTP/2 from (the TLS socket with TLS) must start it within handshakeTimeoutMs. */
  const handToGrpc = (socket: net.Socket) => {
    const deadline = setTimeout(() => {
      if (socket.bytesRead >= PREFACE_AND_SETTINGS) return;
      log.debug(`connection from ${socket.remoteAddress} sent no HTTP/2 preface within ${s.handshakeTimeoutMs} ms: closed`);
      socket.destroy();
    }, s.handshakeTimeoutMs).unref();
    socket.once('close', () => clearTimeout(deadline));
    // The server closed its side (idle, age, shutdown): the peer gets handshakeTimeoutMs to close its own.
    socket.once('finish', () => {
      const linger = setTimeout(() => socket.destroy(), s.handshakeTimeoutMs).unref();
      socket.once('close', () => clearTimeout(linger));
    });
    injector.injectConnection(socket);
  };

  const make = (): net.Server => {
    const server = secure
      ? tls.createServer({ ...secure, ALPNProtocols: ['h2'], handshakeTimeout: s.handshakeTimeoutMs })
      : net.createServer();
    server.on('connection', accept);
    if (server instanceof tls.Server) {
      server.on('secureConnection', (socket: tls.TLSSocket) => {
        socket.on('error', (err) => log.debug(`TLS connection from ${socket.remoteAddress}: ${err.message}`));
        handToGrpc(socket);
      });
      // Failed or timed out (handshakeTimeoutMs): with a listener here, node:tls leaves closing to us.
      server.on('tlsClientError', (err, socket) => {
        log.debug(`TLS handshake from ${socket.remoteAddress} failed: ${err.message}`);
        socket.destroy();
      });
    }
    return server;
  };

  const servers = await bindAll(make, host, port);
  // Once bound (a failed bind leaves no timer behind), before any connection is handed over.
  const closeSession = h2 && s.maxConnectionIdleMs > 0 ? takeOverIdleTimeout(grpc) : undefined;
  const idle: IdleSessions | undefined = closeSession ? closeIdleSessions(h2!, s.maxConnectionIdleMs, closeSession) : undefined;
  return {
    port: (servers[0]!.address() as net.AddressInfo).port,
    get connections() {
      return cap.open.size;
    },
    stopAccepting() {
      for (const server of servers) if (server.listening) server.close();
    },
    destroyAll() {
      idle?.stop();
      for (const socket of cap.open) socket.destroy();
    },
  };
}

/** grpc.server.tls as node:tls options: the certificate, and with clientCa, a client certificate required. */
export function secureContextOptions(config: NonNullable<CfgConfig['grpc']['server']['tls']>): tls.TlsOptions {
  const read = (field: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw CfgError.of('E_TLS_FILE', { field, path, reason: (err as Error).message }, { cause: err });
    }
  };
  const ciphers = process.env.GRPC_SSL_CIPHER_SUITES; // as grpc-js honours it
  return {
    cert: read('cert', config.cert),
    key: read('key', config.key),
    ...(config.clientCa ? { ca: read('clientCa', config.clientCa), requestCert: true, rejectUnauthorized: true } : {}),
    ...(ciphers ? { ciphers } : {}),
  };
}
