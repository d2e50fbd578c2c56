import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileRegistry } from '@bufbuild/protobuf';
import type { FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { protobuf, wire, wkt } from './protobuf.ts';
import { CfgError } from '../errors.ts';
import { DESCRIPTOR_SET } from './tools.ts';

const { createFileRegistry, fromBinary } = protobuf;
const { BinaryReader, WireType } = wire;
const { FileDescriptorProtoSchema, FileDescriptorSetSchema } = wkt;

const BUILTIN = new URL('./builtin/builtin.binpb', import.meta.url);

/** One file of a descriptor set: its bytes exactly as buf wrote them, and their decoding. */
export interface RawFile {
  readonly proto: FileDescriptorProto;
  readonly bytes: Uint8Array;
}

/** cfg's own services' descriptors: grpc.health.v1 and grpc.reflection v1/v1alpha. */
export function builtinFiles(): FileDescriptorProto[] {
  return fromBinary(FileDescriptorSetSchema, readFileSync(BUILTIN)).file;
}

/** cfg's own descriptor set, file by file, bytes untouched. */
export function builtinRawFiles(): RawFile[] {
  return splitFileSet(readFileSync(BUILTIN));
}

/** The app protos' descriptor set as buf wrote it (generated/descriptors.binpb), file by file, bytes untouched. */
export function appRawFiles(generatedDir: string): RawFile[] {
  const path = join(generatedDir, DESCRIPTOR_SET);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new CfgError('E_STUBS_MISSING', `${path} is missing: reflection has nothing to describe.`, 'Generate it: cfg generate-proto');
  }
  return splitFileSet(bytes);
}

/**
 * Splits a serialized FileDescriptorSet (one repeated field, `file = 1`) into its files without
 * re-encoding any of them: each file's bytes are the very ones buf wrote, unknown fields (custom
 * options) included.
 */
export function splitFileSet(set: Uint8Array): RawFile[] {
  const reader = new BinaryReader(set);
  const files: RawFile[] = [];
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo !== 1 || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, fieldNo);
      continue;
    }
    const bytes = reader.bytes();
    files.push({ proto: fromBinary(FileDescriptorProtoSchema, bytes), bytes });
  }
  return files;
}

export function registryOf(files: FileDescriptorProto[]): FileRegistry {
  return createFileRegistry({ $typeName: 'google.protobuf.FileDescriptorSet', file: files } as never);
}
