// Where `cfg call`, `cfg list` and `cfg describe` learn a server's services and messages: its
// reflection service first; a descriptor set on disk (the project's generated/descriptors.binpb,
// or --protoset) when it has none or when no server is named.
import type { DescMethod, FileRegistry } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfgError } from '../errors.ts';
import { appRawFiles, builtinRawFiles, registryOf, splitFileSet, type RawFile } from '../proto/descriptors.ts';
import { DESCRIPTOR_SET } from '../proto/tools.ts';
import { NoReflectionError, type ReflectionClient } from './reflection-client.ts';

export interface DescriptorSource {
  /** Where the descriptors come from, for messages: "reflection" or a file. */
  readonly origin: string;
  /** Fully qualified names of the services. */
  services(): Promise<string[]>;
  /** A registry holding `symbol` (a service, message or enum) and all it imports; undefined when unknown. */
  registryFor(symbol: string): Promise<FileRegistry | undefined>;
}

/** The services and types of a descriptor set file (FileDescriptorSet, as `buf build -o` writes). */
export function fileSource(origin: string, files: RawFile[]): DescriptorSource {
  const seen = new Set<string>();
  const unique = files.filter((f) => !seen.has(f.proto.name) && seen.add(f.proto.name));
  const registry = registryOf(unique.map((f) => f.proto));
  return {
    origin,
    services: async () => [...registry].filter((d) => d.kind === 'service').map((d) => d.typeName),
    registryFor: async (symbol) => (registry.get(symbol) ? registry : undefined),
  };
}

/** --protoset <file>: a descriptor set written by `buf build -o` or `protoc --descriptor_set_out --include_imports`. */
export function protosetSource(path: string): DescriptorSource {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CfgError(
      'E_NOT_FOUND',
      `Cannot read the descriptor set ${path}: ${(err as Error).message}`,
      'Pass a file written by buf build -o, or leave --protoset out to use reflection.',
    );
  }
  return fileSource(path, [...splitFileSet(bytes), ...builtinRawFiles()]);
}

/** The project's generated/descriptors.binpb (what its server reflects), plus cfg's own health and reflection protos. */
export async function projectSource(): Promise<DescriptorSource> {
  const { loadConfig } = await import('../config/load.ts');
  const config = await loadConfig();
  const dir = join(config.root, config.grpc.proto.outputDir);
  return fileSource(join(config.grpc.proto.outputDir, DESCRIPTOR_SET), [...appRawFiles(dir), ...builtinRawFiles()]);
}

/**
 * Reflection, falling back to `fallback()` when the server answers UNIMPLEMENTED to it. Other
 * failures (UNAVAILABLE: no server there) are the caller's to report.
 */
export function reflectionSource(client: ReflectionClient, fallback: () => Promise<DescriptorSource>): DescriptorSource {
  let local: Promise<DescriptorSource> | undefined;
  const orLocal = async <T>(ask: () => Promise<T>, then: (s: DescriptorSource) => Promise<T>): Promise<T> => {
    if (local) return then(await local);
    try {
      return await ask();
    } catch (err) {
      if (!(err instanceof NoReflectionError)) throw err;
      local = fallback();
      return then(await local);
    }
  };
  return {
    get origin() {
      return local ? 'a local descriptor set (the server has no reflection)' : 'reflection';
    },
    services: () =>
      orLocal(
        () => client.services(),
        (s) => s.services(),
      ),
    registryFor: (symbol) =>
      orLocal(
        () => client.registryFor(symbol),
        (s) => s.registryFor(symbol),
      ),
  };
}

/** "pkg.Service/Method", "/pkg.Service/Method" or "pkg.Service.Method" -> its parts. */
export function splitMethodName(text: string): { service: string; method: string } {
  const name = text.replace(/^\//, '');
  const at = name.includes('/') ? name.lastIndexOf('/') : name.lastIndexOf('.');
  if (at <= 0 || at === name.length - 1) {
    throw new CfgError(
      'E_USAGE',
      `"${text}" is not a method name.`,
      'Name it package.Service/Method, e.g. crypto.CryptoService/GetCoin (cfg list <address> shows the services).',
    );
  }
  return { service: name.slice(0, at), method: name.slice(at + 1) };
}

/** The method's descriptor, or a clear E_NOT_FOUND naming what exists instead. */
export async function resolveMethod(source: DescriptorSource, name: string, address: string): Promise<DescMethod> {
  const { service, method } = splitMethodName(name);
  const registry = await source.registryFor(service);
  const desc = registry?.getService(service);
  if (!desc) {
    const services = await source.services();
    throw new CfgError(
      'E_NOT_FOUND',
      `${address} has no service ${service} (by ${source.origin}).`,
      services.length ? `Its services: ${services.sort().join(', ')}` : 'It lists no services.',
    );
  }
  const found = desc.methods.find((m) => m.name === method) ?? desc.methods.find((m) => m.name.toLowerCase() === method.toLowerCase());
  if (!found) {
    throw new CfgError('E_NOT_FOUND', `${service} has no method ${method}.`, `Its methods: ${desc.methods.map((m) => m.name).join(', ')}`);
  }
  return found;
}
