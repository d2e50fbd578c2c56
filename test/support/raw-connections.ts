// Raw TCP/TLS connections that behave as an attacker's: silent, half a handshake, or ignoring the
// server's close. Each records what it received and when it closed.
import net from 'node:net';
import tls from 'node:tls';

/** The HTTP/2 client preface and an empty SETTINGS frame: all a client must send to start. */
export const PREFACE_AND_SETTINGS = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 0x04, 0, 0, 0, 0, 0]),
]);
/** HTTP/2 frame type GOAWAY. */
export const GOAWAY = 0x07;

export interface RawConnection {
  readonly socket: net.Socket;
  /** Everything the server sent. */
  received(): Buffer;
  /** Resolves to the milliseconds from connect to close; rejects after `withinMs`. */
  closed(withinMs: number): Promise<number>;
}

function track(socket: net.Socket, started: number): RawConnection {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const closedAt = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  return {
    socket,
    received: () => Buffer.concat(chunks),
    closed(withinMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`still open ${withinMs} ms after connecting (received ${Buffer.concat(chunks).length} bytes)`)),
          withinMs,
        );
      });
      return Promise.race([closedAt, late]).finally(() => clearTimeout(timer));
    },
  };
}

/**
 * A TCP connection to 127.0.0.1:port, resolved once connected. `ignoreClose`: the socket never
 * closes its end when the server closes its own (allowHalfOpen), as a hostile peer may do; it
 * writes a byte now and then, which fails (and closes it) once the server has let go of it.
 */
export function rawConnect(port: number, options: { ignoreClose?: boolean } = {}): Promise<RawConnection> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.ignoreClose === true });
    const conn = track(socket, started);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      if (options.ignoreClose) {
        socket.once('end', () => {
          const probe = setInterval(() => (socket.destroyed ? clearInterval(probe) : socket.write(Buffer.from([0]))), 100);
          socket.once('close', () => clearInterval(probe));
        });
      }
      resolve(conn);
    });
  });
}

/** A TLS connection (ALPN h2) that completes its handshake and then sends nothing. */
export function tlsConnect(port: number, ca: Buffer): Promise<RawConnection> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca, ALPNProtocols: ['h2'] });
    const conn = track(socket, started);
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(conn);
    });
  });
}

/** The HTTP/2 frame types in `bytes`, as sent by a server (frames only, no preface). */
export function frameTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 9 <= bytes.length; at += 9 + bytes.readUIntBE(at, 3)) types.push(bytes[at + 3]!);
  return types;
}
