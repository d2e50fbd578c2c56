import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The buf binary shipped by the @bufbuild/buf package (never a global install). */
export function bufBinary(): string {
  return join(dirname(require.resolve('@bufbuild/buf/package.json')), 'bin', 'buf');
}

/** ts-proto's protoc plugin. */
export function tsProtoPlugin(): string {
  return join(dirname(require.resolve('ts-proto/package.json')), 'protoc-gen-ts_proto');
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
