import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import type { CfgConfig } from '../../config/types.ts';
import { CfgError } from '../../errors.ts';
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

/** Where a listen failed, in the words its messages use. */
export interface ListenSite {
  host: string;
  port: number;
  /** How E_PORT_IN_USE names it: "Port 50051 on [::]", "HTTP side port 8000 on 127.0.0.1". */
  label: string;
  /** Said after the address in E_BIND: " for the HTTP side port". */
  purpose?: string;
  /** How to pick another port: "cfg rungrpc --port 50052, or CFG_GRPC_PORT". */
  otherPort: string;
  /** E_BIND's hint: the settings to check. */
  check: string;
}

/** A listen that failed, as its user reads it: E_PORT_IN_USE, or E_BIND naming what to check (a CfgError stays as it is). */
export function listenError(err: unknown, site: ListenSite): CfgError {
  if (err instanceof CfgError) return err;
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
    return new CfgError(
      'E_PORT_IN_USE',
      `${site.label} is already in use: stop the other server, or pick another port (${site.otherPort}).`,
    );
  return new CfgError('E_BIND', `Cannot listen on ${site.host}:${site.port}${site.purpose ?? ''}: ${(err as Error).message}`, site.check, {
    cause: err,
  });
}

/**
 * Every address `host` names (a name such as "localhost" may have an IPv6 and an IPv4 one, as
 * grpc-js binds them), all on one port: `port`, or the port the first bind picked for 0.
 * Fails when the first address cannot be bound; a further one that cannot is skipped (logged).
 */
export async function bindAll(make: () => net.Server, host: string, port: number): Promise<net.Server[]> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const addresses = net.isIP(bare) ? [bare] : [...new Set((await lookup(bare, { all: true })).map((a) => a.address))];
  const servers: net.Server[] = [];
  for (const address of addresses) {
    const server = make();
    const chosen = servers.length ? (servers[0]!.address() as net.AddressInfo).port : port;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port: chosen }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
    } catch (err) {
      if (servers.length === 0) throw err;
      log.debug(`${host} also names ${address}, which cannot be bound: ${(err as Error).message}`);
    }
  }
  return servers;
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
