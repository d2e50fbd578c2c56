// The client side of grpc.reflection (v1, then v1alpha for older servers): the service list and
// the descriptors of a symbol with every file it imports, asked over one bidi stream.
import type { DescMessage, FileRegistry } from '@bufbuild/protobuf';
import type { FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { protobuf, wkt } from '../proto/protobuf.ts';
import { status, type Client, type ClientDuplexStream, type Metadata } from '@grpc/grpc-js';
import { builtinFiles, registryOf } from '../proto/descriptors.ts';
import { CallStatusError, statusOf } from './call-status.ts';

const { create, createFileRegistry, fromBinary, toBinary } = protobuf;
const { FileDescriptorProtoSchema } = wkt;

/** The server answered UNIMPLEMENTED to both reflection versions: it has no reflection. */
export class NoReflectionError extends Error {
  override readonly name = 'NoReflectionError';
}

type Body =
  | { case: 'fileDescriptorResponse'; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: 'listServicesResponse'; value: { service: Array<{ name: string }> } }
  | { case: 'errorResponse'; value: { errorCode: number; errorMessage: string } }
  | { case: string | undefined; value?: unknown };

type Request = { case: 'listServices' | 'fileContainingSymbol' | 'fileByFilename'; value: string };

/** One reflection session: questions asked one at a time over a single stream. */
class Session {
  private readonly pending: Array<{ resolve: (b: Body) => void; reject: (e: unknown) => void }> = [];
  private failure: unknown;

  constructor(private readonly call: ClientDuplexStream<Request, { messageResponse: Body }>) {
    call.on('data', (m: { messageResponse: Body }) => this.pending.shift()?.resolve(m.messageResponse));
    call.on('error', (err) => {
      this.failure = err;
      for (const p of this.pending.splice(0)) p.reject(err);
    });
    call.on('end', () => {
      this.failure ??= new CallStatusError(status.INTERNAL, 'the reflection stream ended before its answer');
      for (const p of this.pending.splice(0)) p.reject(this.failure);
    });
  }

  ask(request: Request): Promise<Body> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.call.write(request);
    });
  }

  end(): void {
    this.call.end();
  }
}

function openSession(client: Client, version: 'v1' | 'v1alpha', metadata: Metadata, deadline: Date | undefined): Session {
  const registry = registryOf(builtinFiles());
  const Req = registry.getMessage(`grpc.reflection.${version}.ServerReflectionRequest`)!;
  const Res = registry.getMessage(`grpc.reflection.${version}.ServerReflectionResponse`)!;
  const call = client.makeBidiStreamRequest<Request, { messageResponse: Body }>(
    `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
    (r) => Buffer.from(toBinary(Req, create(Req as DescMessage, { messageRequest: r } as never))),
    (b) => fromBinary(Res, b) as unknown as { messageResponse: Body },
    metadata,
    deadline ? { deadline } : {},
  );
  return new Session(call);
}

/** Reflection over an open client; `services()` and `registryFor()` ask the server. */
export class ReflectionClient {
  private session: Session | undefined;
  private readonly files = new Map<string, FileDescriptorProto>();

  constructor(
    private readonly client: Client,
    private readonly metadata: Metadata,
    private readonly deadline?: Date,
  ) {}

  /** Asks with v1; a server without it (UNIMPLEMENTED) is asked with v1alpha; without both, NoReflectionError. */
  private async ask(request: Request): Promise<Body> {
    if (this.session) return this.session.ask(request);
    for (const version of ['v1', 'v1alpha'] as const) {
      const session = openSession(this.client, version, this.metadata, this.deadline);
      try {
        const body = await session.ask(request);
        this.session = session;
        return body;
      } catch (err) {
        const s = statusOf(err);
        if (s?.code !== status.UNIMPLEMENTED) throw s ? new CallStatusError(s.code, s.details) : err;
      }
    }
    throw new NoReflectionError('the server has no reflection service');
  }

  async services(): Promise<string[]> {
    const body = await this.ask({ case: 'listServices', value: '' });
    if (body.case !== 'listServicesResponse') throw unexpected(body);
    return (body.value as { service: Array<{ name: string }> }).service.map((s) => s.name);
  }

  /** A registry with the file defining `symbol` and everything it imports; undefined when the server does not know it. */
  async registryFor(symbol: string): Promise<FileRegistry | undefined> {
    const first = await this.fetch({ case: 'fileContainingSymbol', value: symbol });
    if (!first) return undefined;
    // The server sends each file's imports along; any it left out is asked for by name.
    const queue = [...first.dependency];
    while (queue.length) {
      const name = queue.shift()!;
      if (this.files.has(name)) continue;
      const file = await this.fetch({ case: 'fileByFilename', value: name });
      if (!file) throw new CallStatusError(status.NOT_FOUND, `the server's reflection does not have ${name}, which its files import`);
      queue.push(...file.dependency);
    }
    return createFileRegistry(first, (name) => this.files.get(name));
  }

  /** The first file of the answer (the one asked for); every file of it kept by name. */
  private async fetch(request: Request): Promise<FileDescriptorProto | undefined> {
    const body = await this.ask(request);
    if (body.case === 'errorResponse') {
      const e = body.value as { errorCode: number; errorMessage: string };
      if (e.errorCode === status.NOT_FOUND) return undefined;
      throw new CallStatusError(e.errorCode, `reflection: ${e.errorMessage}`);
    }
    if (body.case !== 'fileDescriptorResponse') throw unexpected(body);
    const files = (body.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto.map((b) =>
      fromBinary(FileDescriptorProtoSchema, b),
    );
    for (const f of files) if (!this.files.has(f.name)) this.files.set(f.name, f);
    return files[0] && this.files.get(files[0].name);
  }

  close(): void {
    this.session?.end();
  }
}

function unexpected(body: Body): CallStatusError {
  return new CallStatusError(status.INTERNAL, `reflection answered ${body.case ?? 'nothing'}`);
}
