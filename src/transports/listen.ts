// Binding a port, shared by every listener cfg opens (the gRPC port, the web listener, the HTTP
// side port): every address a host name names, and a failed bind in the words users read.
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { CfgError } from '../errors.ts';
import { getLogger } from '../log/logger.ts';

const log = getLogger('grpc.server');

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
