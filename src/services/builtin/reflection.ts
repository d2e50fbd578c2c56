import type { DescMessage } from '@bufbuild/protobuf';
import { protobuf } from '../../proto/protobuf.ts';
import type { DescriptorProto, EnumDescriptorProto, FieldDescriptorProto } from '@bufbuild/protobuf/wkt';
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { appRawFiles, builtinRawFiles, registryOf, type RawFile } from '../../proto/descriptors.ts';
import type { ServiceDefinition } from '../types.ts';
import type { ServiceHost } from '../host.ts';

const { create, fromBinary, toBinary } = protobuf;

/** The decoded ServerReflectionRequest (the same message in v1 and v1alpha). */
interface ReflectionRequest {
  host: string;
  messageRequest:
    | { case: 'fileByFilename' | 'fileContainingSymbol' | 'allExtensionNumbersOfType' | 'listServices'; value: string }
    | { case: 'fileContainingExtension'; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

type ResponseBody =
  | { case: 'fileDescriptorResponse'; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: 'allExtensionNumbersResponse'; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: 'listServicesResponse'; value: { service: Array<{ name: string }> } }
  | { case: 'errorResponse'; value: { errorCode: number; errorMessage: string } };

/**
 * What reflection answers from: every file of the app's descriptor set and cfg's own (health,
 * reflection), by name, with the symbols and extensions each defines. Built once at start-up.
 */
class DescriptorIndex {
  readonly files = new Map<string, RawFile>();
  /** Fully qualified name (no leading dot) -> the file defining it. */
  readonly symbols = new Map<string, string>();
  /** Extended message's full name -> extension field number -> the file defining the extension. */
  readonly extensions = new Map<string, Map<number, string>>();
  readonly messages = new Set<string>();

  constructor(sets: RawFile[][]) {
    // First occurrence of a file name wins: well-known types appear in several sets, identical.
    for (const set of sets) for (const file of set) if (!this.files.has(file.proto.name)) this.files.set(file.proto.name, file);
    // A strict check at start-up, as strict clients will do: every import must be in the sets.
    registryOf([...this.files.values()].map((f) => f.proto));
    for (const { proto } of this.files.values()) {
      const scope = proto.package ? `${proto.package}.` : '';
      this.indexMessages(proto.messageType, scope, proto.name);
      this.indexEnums(proto.enumType, scope, proto.name);
      this.indexExtensions(proto.extension, scope, proto.name);
      for (const service of proto.service) {
        const name = scope + service.name;
        this.add(name, proto.name);
        for (const method of service.method) this.add(`${name}.${method.name}`, proto.name);
      }
    }
  }

  /** The file's own bytes first, then every file it imports, transitively, each once. */
  withDependencies(name: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    const seen = new Set<string>();
    const queue = [name];
    while (queue.length) {
      const file = this.files.get(queue.shift()!);
      if (!file || seen.has(file.proto.name)) continue;
      seen.add(file.proto.name);
      out.push(file.bytes);
      queue.push(...file.proto.dependency);
    }
    return out;
  }

  private add(symbol: string, file: string): void {
    if (!this.symbols.has(symbol)) this.symbols.set(symbol, file);
  }

  private indexMessages(messages: DescriptorProto[], scope: string, file: string): void {
    for (const m of messages) {
      const name = scope + m.name;
      this.add(name, file);
      this.messages.add(name);
      for (const f of m.field) this.add(`${name}.${f.name}`, file);
      for (const o of m.oneofDecl) this.add(`${name}.${o.name}`, file);
      this.indexMessages(m.nestedType, `${name}.`, file);
      this.indexEnums(m.enumType, `${name}.`, file);
      this.indexExtensions(m.extension, `${name}.`, file);
    }
  }

  private indexEnums(enums: EnumDescriptorProto[], scope: string, file: string): void {
    for (const e of enums) {
      this.add(scope + e.name, file);
      // Enum values are scoped like their enum (C++ scoping), not inside it.
      for (const v of e.value) this.add(scope + v.name, file);
    }
  }

  private indexExtensions(extensions: FieldDescriptorProto[], scope: string, file: string): void {
    for (const x of extensions) {
      this.add(scope + x.name, file);
      const extendee = x.extendee.replace(/^\./, '');
      let numbers = this.extensions.get(extendee);
      if (!numbers) this.extensions.set(extendee, (numbers = new Map()));
      if (!numbers.has(x.number)) numbers.set(x.number, file);
    }
  }
}

function answer(index: DescriptorIndex, server: ServiceHost, request: ReflectionRequest): ResponseBody {
  const notFound = (errorMessage: string): ResponseBody => ({
    case: 'errorResponse',
    value: { errorCode: status.NOT_FOUND, errorMessage },
  });
  const files = (name: string): ResponseBody => ({
    case: 'fileDescriptorResponse',
    value: { fileDescriptorProto: index.withDependencies(name) },
  });
  const r = request.messageRequest;
  switch (r.case) {
    case 'listServices':
      return { case: 'listServicesResponse', value: { service: server.services.map((s) => ({ name: s.name })) } };
    case 'fileByFilename':
      return index.files.has(r.value) ? files(r.value) : notFound(`file not found: ${r.value}`);
    case 'fileContainingSymbol': {
      const file = index.symbols.get(r.value.replace(/^\./, ''));
      return file ? files(file) : notFound(`symbol not found: ${r.value}`);
    }
    case 'fileContainingExtension': {
      const file = index.extensions.get(r.value.containingType.replace(/^\./, ''))?.get(r.value.extensionNumber);
      return file ? files(file) : notFound(`extension ${r.value.extensionNumber} of ${r.value.containingType} not found`);
    }
    case 'allExtensionNumbersOfType': {
      const type = r.value.replace(/^\./, '');
      if (!index.messages.has(type)) return notFound(`message type not found: ${r.value}`);
      return {
        case: 'allExtensionNumbersResponse',
        value: { baseTypeName: type, extensionNumber: [...(index.extensions.get(type)?.keys() ?? [])] },
      };
    }
    default:
      return { case: 'errorResponse', value: { errorCode: status.INVALID_ARGUMENT, errorMessage: 'empty reflection request' } };
  }
}

/**
 * grpc.reflection v1 and v1alpha, for grpcurl and other strict clients. Every file is served as
 * buf wrote it (generated/descriptors.binpb, split without re-encoding), so dependency lists,
 * fully qualified type names and custom options are intact; a file comes with all the files it
 * imports. cfg's own protos (health, reflection) are described too, so `list` and `describe`
 * cover every served service.
 */
export async function addReflectionService(server: ServiceHost, generatedDir: string): Promise<void> {
  const builtin = builtinRawFiles();
  const index = new DescriptorIndex([appRawFiles(generatedDir), builtin]);
  const registry = registryOf(builtin.map((f) => f.proto));
  const open = new Set<ServerDuplexStream<unknown, unknown>>();

  for (const version of ['v1', 'v1alpha'] as const) {
    const Req = registry.getMessage(`grpc.reflection.${version}.ServerReflectionRequest`)!;
    const Res = registry.getMessage(`grpc.reflection.${version}.ServerReflectionResponse`)!;
    const name = `grpc.reflection.${version}.ServerReflection`;
    const definition: ServiceDefinition = {
      serverReflectionInfo: {
        path: `/${name}/ServerReflectionInfo`,
        requestStream: true,
        responseStream: true,
        requestSerialize: (value: object) => Buffer.from(toBinary(Req, create(Req as DescMessage, value as never))),
        requestDeserialize: (bytes: Buffer) => fromBinary(Req, bytes),
        responseSerialize: (value: object) => Buffer.from(toBinary(Res, create(Res as DescMessage, value as never))),
        responseDeserialize: (bytes: Buffer) => fromBinary(Res, bytes),
      },
    };
    server.addBuiltinService(name, definition, {
      serverReflectionInfo(call: ServerDuplexStream<ReflectionRequest, object>) {
        open.add(call as ServerDuplexStream<unknown, unknown>);
        const forget = () => open.delete(call as ServerDuplexStream<unknown, unknown>);
        call.on('data', (request: ReflectionRequest) => {
          call.write({ validHost: request.host, originalRequest: request, messageResponse: answer(index, server, request) });
        });
        call.on('end', () => {
          forget();
          call.end();
        });
        call.on('cancelled', forget);
        call.on('error', forget);
      },
    });
  }
  // An open reflection stream (a GUI client's) must not hold graceful shutdown open.
  server.onShutdown(() => {
    for (const call of open) call.end();
    open.clear();
  });
}
