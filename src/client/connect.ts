// The connection `cfg call`, `cfg list` and `cfg describe` open: plaintext or TLS, metadata from
// -H headers (and a minted token), a deadline.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Client, credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { CfgError } from '../errors.ts';

export interface ConnectOptions {
  /** TLS (verified against the system's CAs, or --cacert). Implied by cacert, cert and key. */
  tls?: boolean;
  cacert?: string;
  cert?: string;
  key?: string;
  /** Accept any server certificate (self-signed, wrong name): for development only. */
  insecure?: boolean;
  /** The name the server's certificate must carry, when it is not the address's host. */
  servername?: string;
}

function pem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CfgError('E_NOT_FOUND', `Cannot read the ${what} ${path}: ${(err as Error).message}`);
  }
}

export function channelCredentials(o: ConnectOptions): ChannelCredentials {
  if (!o.tls && !o.cacert && !o.cert && !o.key && !o.insecure && !o.servername) return credentials.createInsecure();
  if (Boolean(o.cert) !== Boolean(o.key)) throw new CfgError('E_USAGE', 'A client certificate needs both --cert and --key.');
  return credentials.createSsl(
    o.cacert ? pem(o.cacert, 'CA certificate') : null,
    o.key ? pem(o.key, 'client key') : null,
    o.cert ? pem(o.cert, 'client certificate') : null,
    o.insecure ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
  );
}

/** A grpc-js client for any method of the server at `address`. */
export function openClient(address: string, o: ConnectOptions): Client {
  const options: Record<string, string> = {};
  if (o.servername) options['grpc.ssl_target_name_override'] = o.servername;
  const creds = channelCredentials(o);
  // grpc-js passes an IP address host as the TLS server name, which Node answers with a
  // deprecation warning (DEP0123) on stderr; the certificate is still checked against the IP.
  // This process is a one-shot client: the warning would only be noise in its output.
  if (creds._isSecure() && !o.servername && isIP(hostOf(address))) process.noDeprecation = true;
  return new Client(address, creds, options);
}

/** "name: value" -> request metadata; a malformed header is refused with its text. */
export function metadataOf(headers: readonly string[], token?: string): Metadata {
  const md = new Metadata();
  for (const h of headers) {
    const at = h.indexOf(':');
    const name = at > 0 ? h.slice(0, at).trim().toLowerCase() : '';
    if (!/^[0-9a-z_.-]+$/.test(name)) throw new CfgError('E_USAGE', `Header "${h}" is not "name: value".`, 'e.g. -H "x-api-key: cfg_..."');
    const value = h.slice(at + 1).trim();
    md.add(name, name.endsWith('-bin') ? Buffer.from(value, 'base64') : value);
  }
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

/** The host of host:port or [v6]:port (as it is for other forms). */
function hostOf(address: string): string {
  return address
    .replace(/^(ipv4|ipv6|dns):(\/\/[^/]*\/)?/, '')
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1');
}
