// What cfg call, cfg list and cfg describe share: the options that reach a server (TLS, headers,
// a token minted for a local user, a deadline, a descriptor set instead of reflection), and how a
// call's status becomes the exit code.
import { Command } from 'commander';
import type { Client, Metadata } from '@grpc/grpc-js';
import type { ConnectOptions } from '../client/connect.ts';
import type { DescriptorSource } from '../client/descriptor-source.ts';

export interface TargetOptions extends ConnectOptions {
  header: string[];
  tokenUser?: string;
  protoset?: string;
  timeout?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds the connection options to a command. */
export function withTargetOptions(command: Command): Command {
  return command
    .option('-H, --header <header>', 'request metadata "name: value" (repeatable); -bin names take base64', collect, [])
    .option(
      '--token-user <username>',
      'mint an access token for this user of the project (as cfg token does) and send it as "authorization: Bearer"',
    )
    .option('--protoset <file>', 'read services and messages from this descriptor set (buf build -o) instead of reflection')
    .option('--timeout <duration>', 'deadline for the whole call, in whole seconds or more: 10s, 5m, 1h')
    .option('--tls', 'use TLS (verified against the system CAs, or --cacert); the default is plaintext')
    .option('--cacert <file>', 'PEM CA certificate to verify the server with (implies --tls)')
    .option('--cert <file>', 'PEM client certificate for mutual TLS (with --key; implies --tls)')
    .option('--key <file>', 'PEM private key of --cert')
    .option('--insecure', 'TLS without verifying the server certificate (development only)')
    .option('--servername <name>', 'the name the server certificate must carry, if not the address host (implies --tls)');
}

/** A server named on the command line (or none: the project's descriptors), opened. */
export interface Target {
  readonly source: DescriptorSource;
  /** Set when an address was given. */
  readonly client?: Client;
  readonly metadata: Metadata;
  readonly deadline?: Date;
  close(): void;
}

/**
 * Opens the target: with an address, reflection (falling back to the project's descriptor set
 * when the server has none) unless --protoset names a file; without one, --protoset or the project.
 * The token is minted first, so a missing project or user fails before any connection.
 */
export async function openTarget(address: string | undefined, o: TargetOptions): Promise<Target> {
  let token: string | undefined;
  if (o.tokenUser) token = await (await import('./token.ts')).userAccessToken(o.tokenUser, 300);
  const [connect, sources] = await Promise.all([import('../client/connect.ts'), import('../client/descriptor-source.ts')]);
  const metadata = connect.metadataOf(o.header, token);
  const deadline = o.timeout ? new Date(Date.now() + (await import('../auth/tokens.ts')).parseDuration(o.timeout) * 1000) : undefined;
  const local = () => (o.protoset ? Promise.resolve(sources.protosetSource(o.protoset)) : sources.projectSource());
  if (!address) return { source: await local(), metadata, deadline, close: () => {} };
  const fallback = () =>
    local().catch(async (err: unknown) => {
      const { CfgError } = await import('../errors.ts');
      if (!(err instanceof CfgError && err.code === 'E_CONFIG_NOT_FOUND')) throw err;
      throw new CfgError(
        'E_NOT_FOUND',
        `${address} has no reflection service, and no project is here to read its descriptors from.`,
        "Run it in the server's project (its generated/descriptors.binpb is read), or pass --protoset <file>.",
      );
    });
  const client = connect.openClient(address, o);
  let source: DescriptorSource;
  let reflection: { close(): void } | undefined;
  if (o.protoset) source = await local();
  else {
    const { ReflectionClient } = await import('../client/reflection-client.ts');
    const r = new ReflectionClient(client, metadata, deadline);
    reflection = r;
    source = sources.reflectionSource(r, fallback);
  }
  return {
    source,
    client,
    metadata,
    deadline,
    close: () => {
      reflection?.close();
      client.close();
    },
  };
}

/**
 * cfg list / cfg describe: `[address] [name]`, where a lone argument that is no address is the
 * name (then the project's descriptors are read). `run` gets both, sorted out.
 */
export function addressOrProjectCommand(
  name: string,
  description: string,
  nameArgument: string,
  run: (address: string | undefined, symbol: string | undefined, opts: TargetOptions) => Promise<void>,
): Command {
  return withTargetOptions(
    new Command(name)
      .description(description)
      .argument('[address]', 'the server, host:port; left out: the project (generated/descriptors.binpb)')
      .argument('[name]', nameArgument),
  ).action(async (first: string | undefined, second: string | undefined, opts: TargetOptions) => {
    const [address, symbol] = first !== undefined && second === undefined && !isAddress(first) ? [undefined, first] : [first, second];
    await exitWithStatus(() => run(address, symbol, opts));
  });
}

/** host:port, unix:path, dns:..., ipv4:..., [::1]:port: a server address, never a proto symbol. */
export function isAddress(text: string): boolean {
  return /:\d+$/.test(text) || /^(unix|unix-abstract|dns|ipv4|ipv6):/.test(text);
}

/**
 * Runs a command that talks to a server: a status other than OK (the call's, or the reflection
 * call's before it: UNAVAILABLE when no server answers) ends it with one line
 * `error <STATUS> <message>` on stderr and the status code as the exit code.
 */
export async function exitWithStatus(fn: () => Promise<void>): Promise<void> {
  const { CallStatusError, statusName } = await import('../client/call-status.ts');
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof CallStatusError)) throw err;
    const name = statusName(err.code);
    await printStatus(name, name === 'UNAVAILABLE' ? explainUnreachable(err.details) : err.details);
    process.exitCode = err.code;
  }
}

/**
 * grpc-js's text for a server it could not reach ("No connection established. Last error: Error:
 * connect ECONNREFUSED 127.0.0.1:1. Resolution note: ") made into what happened and what to check,
 * still on one line; any other UNAVAILABLE (a server shutting down, say) is left as the server said it.
 */
export function explainUnreachable(details: string): string {
  const cause = /^No connection established\. Last error: (?:Error: )?(.*?)\.?(?: Resolution note:.*)?$/s.exec(details.trim())?.[1];
  return cause ? `${cause}: no server answers there (is cfg rungrpc running, and is the address host:port right?)` : details;
}

/** One line on stderr: `error NOT_FOUND Coin XYZ not found`, in the colours of cfg's other errors. */
export async function printStatus(name: string, details: string): Promise<void> {
  const [{ default: kleur }, { colourFor }] = await Promise.all([import('kleur'), import('../log/colour.ts')]);
  kleur.enabled = colourFor(process.stderr);
  process.stderr.write(`${kleur.red('error')} ${kleur.dim(name)} ${details.replace(/\s*\n\s*/g, ' ')}\n`);
}
