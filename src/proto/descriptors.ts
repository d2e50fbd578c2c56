import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileRegistry, fromBinary, toBinary, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { CfgError } from '../errors.ts';
import { DESCRIPTOR_SET } from './tools.ts';

const BUILTIN = new URL('./builtin/builtin.binpb', import.meta.url);

/** cfg's own services' descriptors: grpc.health.v1 and grpc.reflection v1/v1alpha. */
export function builtinFiles(): FileDescriptorProto[] {
  return fromBinary(FileDescriptorSetSchema, readFileSync(BUILTIN)).file;
}

/** The app protos' descriptors as buf wrote them (generated/descriptors.binpb). */
export function appFiles(generatedDir: string): FileDescriptorProto[] {
  const path = join(generatedDir, DESCRIPTOR_SET);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new CfgError('E_STUBS_MISSING', `${path} is missing: reflection has nothing to describe.`, 'Generate it: cfg generate-proto');
  }
  return fromBinary(FileDescriptorSetSchema, bytes).file;
}

/** Every file once (by name), the first occurrence kept: imports such as timestamp.proto appear in several sets. */
export function uniqueFiles(...sets: FileDescriptorProto[][]): FileDescriptorProto[] {
  const seen = new Map<string, FileDescriptorProto>();
  for (const set of sets) for (const f of set) if (!seen.has(f.name)) seen.set(f.name, f);
  return [...seen.values()];
}

/** Each file serialized on its own, with its dependency list and qualified names as buf produced them. */
export function fileBytes(files: FileDescriptorProto[]): Buffer[] {
  return files.map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f)));
}

export function registryOf(files: FileDescriptorProto[]): FileRegistry {
  return createFileRegistry({ $typeName: 'google.protobuf.FileDescriptorSet', file: files } as never);
}
