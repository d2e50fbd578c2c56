// Canonical proto3 JSON for any message of a descriptor set, through @bufbuild/protobuf: what
// `cfg call` and the JSON protocols (Connect) need to turn JSON into the bytes a service reads,
// and its bytes back into JSON. ts-proto's own toJSON/fromJSON are not used: they accept unknown
// fields and are not the canonical mapping in every corner.
import type { DescMessage, FileRegistry } from '@bufbuild/protobuf';
import { protobuf } from './protobuf.ts';
import { registryOf, type RawFile } from './descriptors.ts';

const { fromBinary, fromJsonString, toBinary, toJsonString } = protobuf;

/** Why a JSON text could not be turned into a message: shown to whoever sent it. */
export class JsonCodecError extends Error {
  override readonly name = 'JsonCodecError';
}

/** JSON <-> binary for the messages of one registry. */
export interface JsonCodec {
  readonly registry: FileRegistry;
  /** The message type "pkg.Message", or undefined when the registry does not know it. */
  message(typeName: string): DescMessage | undefined;
  /** Parses canonical JSON (unknown fields refused) into the message's binary encoding. */
  jsonToBinary(schema: DescMessage, json: string): Uint8Array;
  /** The canonical JSON of a binary message (int64 as strings, enum names, lowerCamel names). */
  binaryToJson(schema: DescMessage, bytes: Uint8Array, options?: { pretty?: boolean; emitDefaults?: boolean }): string;
}

/** A codec over the given files (e.g. appRawFiles(generatedDir) plus builtinRawFiles()). */
export function createJsonCodec(files: readonly RawFile[]): JsonCodec {
  return jsonCodecOf(registryOf(files.map((f) => f.proto)));
}

/** A codec over a registry already built (e.g. from descriptors a server sent through reflection). */
export function jsonCodecOf(registry: FileRegistry): JsonCodec {
  return {
    registry,
    message: (typeName) => registry.getMessage(typeName),
    jsonToBinary(schema, json) {
      try {
        return toBinary(schema, fromJsonString(schema, json, { registry, ignoreUnknownFields: false }));
      } catch (err) {
        throw new JsonCodecError(`${schema.typeName}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    },
    binaryToJson(schema, bytes, options = {}) {
      return toJsonString(schema, fromBinary(schema, bytes), {
        registry,
        prettySpaces: options.pretty ? 2 : 0,
        alwaysEmitImplicit: options.emitDefaults ?? false,
      });
    },
  };
}
