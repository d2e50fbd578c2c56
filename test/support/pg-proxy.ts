// A loopback TCP proxy to PostgreSQL (127.0.0.1:5432) that a test can cut (every connection
// dropped, new ones refused) and restore on the same port: database outages (db-faults) and a
// lost event channel (events-cut-postgresql).
import net from 'node:net';

export interface PgProxy {
  readonly port: number;
  /** Connections accepted since it started. */
  readonly accepted: number;
  /** Sockets open now (both sides of each connection). */
  readonly open: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function pgProxy(): Promise<PgProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  let accepted = 0;
  const open = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        accepted++;
        const upstream = net.connect(5432, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await open();
  return {
    get port() {
      return port;
    },
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    async cut() {
      // close() waits for open connections to end: destroy them first, or a pool that is never
      // idle (the monitor's heartbeat, calls in flight) keeps the cut from ever happening.
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: open,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}
