import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** @bufbuild/buf's per-platform binary packages (its optional dependencies), by `platform-arch`. */
const NATIVE_BUF: Record<string, string> = {
  'linux-x64': '@bufbuild/buf-linux-x64',
  'linux-arm64': '@bufbuild/buf-linux-aarch64',
  'linux-arm': '@bufbuild/buf-linux-armv7',
  'darwin-x64': '@bufbuild/buf-darwin-x64',
  'darwin-arm64': '@bufbuild/buf-darwin-arm64',
  'win32-x64': '@bufbuild/buf-win32-x64',
  'win32-arm64': '@bufbuild/buf-win32-arm64',
};

/** How to run a tool: the executable, then the arguments that come before the tool's own. */
export interface ToolCommand {
  file: string;
  args: string[];
}

let buf: ToolCommand | undefined;

/**
 * The buf binary shipped by the @bufbuild/buf package (never a global install). The platform's
 * native binary is run directly; without it, the package's node launcher (one more process start).
 */
export function bufCommand(): ToolCommand {
  if (buf) return buf;
  const pkgJson = require.resolve('@bufbuild/buf/package.json');
  const native = NATIVE_BUF[`${process.platform}-${process.arch}`];
  if (native) {
    try {
      const dir = dirname(createRequire(pkgJson).resolve(`${native}/package.json`));
      const file = join(dir, 'bin', process.platform === 'win32' ? 'buf.exe' : 'buf');
      if (existsSync(file)) return (buf = { file, args: [] });
    } catch {
      // not installed for this platform: fall through to the launcher
    }
  }
  return (buf = { file: process.execPath, args: [join(dirname(pkgJson), 'bin', 'buf')] });
}

/**
 * ts-proto's protoc plugin, as buf's `local` command: run by this same node binary, so that
 * generation does not depend on a `node` on PATH.
 */
export function tsProtoPlugin(): string[] {
  return [process.execPath, join(dirname(require.resolve('ts-proto/package.json')), 'protoc-gen-ts_proto')];
}

/**
 * ts-proto options: @grpc/grpc-js services; int64 as bigint (number loses precision past 2^53);
 * oneofs as tagged unions; Timestamp as Date; ".js" import suffixes so the output is valid ESM.
 */
export const TS_PROTO_OPTIONS = [
  'outputServices=grpc-js',
  'esModuleInterop=true',
  'forceLong=bigint',
  'oneof=unions-value',
  'importSuffix=.js',
  'useDate=true',
  'env=node',
] as const;

/** Name of the FileDescriptorSet written beside the stubs, served by reflection. */
export const DESCRIPTOR_SET = 'descriptors.binpb';
/** Lists the files generate-proto wrote, so a re-run replaces exactly those. */
export const MANIFEST = '.proto-manifest.json';

/**
 * protoc-gen-es (@bufbuild/protoc-gen-es), as buf's `local` command, run by this node binary:
 * ECMAScript messages and service descriptors for @connectrpc/connect-web in browsers.
 */
export function esPlugin(): string[] {
  return [process.execPath, join(dirname(require.resolve('@bufbuild/protoc-gen-es/package.json')), 'bin', 'protoc-gen-es')];
}

export function esVersion(): string {
  return (require('@bufbuild/protoc-gen-es/package.json') as { version: string }).version;
}

/** protoc-gen-es options: TypeScript (bundlers and tsc read it), ".js" import suffixes for ESM. */
export const ES_OPTIONS = ['target=ts', 'import_extension=js'] as const;

/** The folder of the output dir protoc-gen-es writes into. */
export const ES_OUT = 'es';
