// A method's messages as the web protocols carry them: binary (the generated ts-proto codec, as on
// the gRPC port) or canonical proto3 JSON (@bufbuild/protobuf with the registry of the descriptor
// set cfg generates for reflection). The service method always gets and returns ts-proto
// messages; JSON is converted through the binary encoding, which both sides read exactly.
import type { DescMessage, FileRegistry, JsonValue } from '@bufbuild/protobuf';
import { protobuf } from '../../proto/protobuf.ts';
import { GrpcError, Status } from '../../call/error.ts';

const { fromBinary, fromJson, toBinary, toJsonString } = protobuf;

/** What a method definition of the generated stubs (a grpc-js MethodDefinition) gives the web transport. */
export interface MethodSerializers {
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(message: unknown): Buffer;
}

/** One method's request and response codecs. */
export interface MethodCodec {
  /** Binary request bytes -> the request message; INVALID_ARGUMENT when they are not one. */
  decode(bytes: Buffer): unknown;
  /** The response message -> binary. */
  encode(message: unknown): Buffer;
  /** True when JSON is served for this method (its types are in the descriptor set). */
  readonly json: boolean;
  /** Canonical JSON text -> the request message; INVALID_ARGUMENT with the reason when it is not one. */
  fromJson(text: string): unknown;
  /** The response message -> canonical JSON text. */
  toJson(message: unknown): string;
}

const jsonRead = { ignoreUnknownFields: false } as const;

export function methodCodec(
  serializers: MethodSerializers,
  registry: FileRegistry | undefined,
  input: DescMessage | undefined,
  output: DescMessage | undefined,
): MethodCodec {
  const decode = (bytes: Buffer): unknown => {
    try {
      return serializers.requestDeserialize(bytes);
    } catch (err) {
      throw new GrpcError(Status.INVALID_ARGUMENT, `Request message could not be decoded: ${(err as Error).message}`);
    }
  };
  const encode = (message: unknown): Buffer => serializers.responseSerialize(message);
  if (!registry || !input || !output) {
    const none = (): never => {
      throw new GrpcError(
        Status.UNIMPLEMENTED,
        'JSON is not available for this method: its types are not in the descriptor set (run cfg generate-proto); use the binary content type',
      );
    };
    return { decode, encode, json: false, fromJson: none, toJson: none };
  }
  const read = { ...jsonRead, registry };
  const write = { registry };
  return {
    decode,
    encode,
    json: true,
    fromJson(text) {
      let value: JsonValue;
      try {
        value = text.length === 0 ? {} : (JSON.parse(text) as JsonValue);
      } catch (err) {
        throw new GrpcError(
          Status.INVALID_ARGUMENT,
          `Request is not a ${input.typeName} in JSON: malformed JSON (${(err as Error).message})`,
        );
      }
      let bytes: Uint8Array;
      try {
        bytes = toBinary(input, fromJson(input, value, read));
      } catch (err) {
        throw new GrpcError(Status.INVALID_ARGUMENT, `Request is not a ${input.typeName} in JSON: ${(err as Error).message}`);
      }
      return decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
    toJson(message) {
      return toJsonString(output, fromBinary(output, encode(message)), write);
    },
  };
}
