import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import type { CfgConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';
import { getLogger, type Logger } from '../log/logger.ts';
import { rateLimited, type RateLimited } from '../log/rate-limited.ts';

const log = getLogger('grpc.server');

/** The HTTP/2 client preface (24 bytes) and a SETTINGS frame header (9): what a client sends first. */
const PREFACE_AND_SETTINGS = 24 + 9;
/** How often, at most, refused connections are reported. */
const REFUSALS_EVERY_MS = 10_000;

/**
 * The warning for connections refused past a listener's cap: the first at once, then at most one
 * per 10 s with the count, never one line per refused socket.
 */
export function refusalWarning(logger: Logger, listener: string, setting: string, max: number, open?: () => number): RateLimited {
  return rateLimited(REFUSALS_EVERY_MS, (count, sinceMs) => {
    const when = sinceMs === undefined ? '' : ` in the last ${sinceMs / 1000} s`;
    const now = open ? `${open()} open; ` : '';
    logger.warn(`${listener}: connection limit reached, ${count} new connection(s) refused${when} (${now}${setting} is ${max} per process)`, { refused: count, maxConnections: max, ...(open ? { open: open() } : {}) });
  });
}

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
 * ones are closed at once (one warning per 10 s with the count); a peer that does not close its
 * end within handshakeTimeoutMs of the server closing the connection (idle, age, shutdown) is cut
 * off. Idle connections (no open call) are closed by grpc-js (max_connection_idle_ms).
 */
export async function openGrpcListener(grpc: Server, config: CfgConfig, host: string, port: number): Promise<GrpcListener> {
  const s = config.grpc.server;
  const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
  const open = new Set<net.Socket>();
  const refusals = refusalWarning(log, 'gRPC port', 'grpc.server.maxConnections', s.maxConnections, () => open.size);
  const secure = s.tls ? secureContextOptions(s.tls) : undefined;

  const accept = (socket: net.Socket) => {
    if (open.size >= s.maxConnections) {
      socket.destroy();
      refusals.hit();
      return;
    }
    open.add(socket);
    socket.on('close', () => open.delete(socket));
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
    server.maxConnections = s.maxConnections;
    server.on('connection', accept);
    server.on('drop', () => refusals.hit());
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
  return {
    port: (servers[0]!.address() as net.AddressInfo).port,
    get connections() {
      return open.size;
    },
    stopAccepting() {
      for (const server of servers) if (server.listening) server.close();
    },
    destroyAll() {
      for (const socket of open) socket.destroy();
    },
  };
}

/**
 * Every address `host` names (a name such as "localhost" may have an IPv6 and an IPv4 one, as
 * grpc-js binds them), all on one port: `port`, or the port the first bind picked for 0.
 * Fails when the first address cannot be bound; a further one that cannot is skipped (logged).
 */
async function bindAll(make: () => net.Server, host: string, port: number): Promise<net.Server[]> {
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
function secureContextOptions(config: NonNullable<CfgConfig['grpc']['server']['tls']>): tls.TlsOptions {
  const read = (field: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new CfgError('E_CONFIG_INVALID', `grpc.server.tls.${field}: cannot read ${path}: ${(err as Error).message}`, 'Point it at a readable PEM file.');
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
