// Reflection as grpcurl uses it, checked with a strict, independent decoder: the descriptors the
// server returns (v1 and v1alpha) must build a @bufbuild/protobuf registry on their own, every
// dependency fetched through reflection (a missing one fails), and a method whose messages import
// google/protobuf/timestamp.proto must be callable dynamically from them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create, createFileRegistry, fromBinary, getOption, toBinary, type DescMessage, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { credentials, makeGenericClientConstructor, status, type Client } from '@grpc/grpc-js';
import { defaults } from '../src/config/defaults.ts';
import { bufCommand, DESCRIPTOR_SET } from '../src/proto/tools.ts';
import { CfgServer } from '../src/server/cfg-server.ts';
import { addReflectionService } from '../src/services/builtin/reflection.ts';
import { builtinFiles, builtinRawFiles, splitFileSet } from '../src/proto/descriptors.ts';
import { startCrypto, type CryptoEnv } from './support/crypto-env.ts';

let app: CryptoEnv;
before(async () => {
  app = await startCrypto('sqlite');
});
after(async () => {
  await app?.stop();
});

/** Every service the repository's protos define, from the descriptor set generate-proto wrote. */
function protoServices(): string[] {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(new URL(`../generated/${DESCRIPTOR_SET}`, import.meta.url)));
  return set.file
    .filter((f) => !f.name.startsWith('google/'))
    .flatMap((f) => f.service.map((s) => (f.package ? `${f.package}.${s.name}` : s.name)));
}

/** A bidi reflection session speaking one version, encoding with the reflection protos' descriptors. */
function reflectionClient(version: 'v1' | 'v1alpha', address = app.address) {
  const reg = createFileRegistry({ $typeName: 'google.protobuf.FileDescriptorSet', file: builtinFiles() } as never);
  const Req = reg.getMessage(`grpc.reflection.${version}.ServerReflectionRequest`)!;
  const Res = reg.getMessage(`grpc.reflection.${version}.ServerReflectionResponse`)!;
  const Ctor = makeGenericClientConstructor(
    {
      info: {
        path: `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
        requestStream: true,
        responseStream: true,
        requestSerialize: (m: unknown) => Buffer.from(toBinary(Req, create(Req, m as never))),
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (m: unknown) => m as Buffer,
        responseDeserialize: (b: Buffer) => fromBinary(Res, b),
      },
    },
    'R',
  );
  const client = new Ctor(address, credentials.createInsecure()) as unknown as Client & {
    info(): NodeJS.EventEmitter & { write(m: unknown): void; end(): void };
  };
  const ask = (request: unknown) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const call = client.info();
      call.on('data', (m: Record<string, unknown>) => resolve(m));
      call.on('error', reject);
      call.write(request);
      call.end();
    });
  return {
    async list(): Promise<string[]> {
      const r = (await ask({ messageRequest: { case: 'listServices', value: '' } })) as {
        messageResponse: { case: string; value: { service: Array<{ name: string }> } };
      };
      assert.equal(r.messageResponse.case, 'listServicesResponse');
      return r.messageResponse.value.service.map((s) => s.name).sort();
    },
    async files(kind: 'fileContainingSymbol' | 'fileByFilename', value: string): Promise<FileDescriptorProto[]> {
      return (await this.bytes(kind, value)).map((b) => fromBinary(FileDescriptorProtoSchema, b));
    },
    /** The serialized FileDescriptorProtos of the answer, as sent. */
    async bytes(kind: 'fileContainingSymbol' | 'fileByFilename', value: string): Promise<Uint8Array[]> {
      const r = (await ask({ messageRequest: { case: kind, value } })) as {
        messageResponse: { case: string; value: { fileDescriptorProto: Uint8Array[] } };
      };
      assert.equal(r.messageResponse.case, 'fileDescriptorResponse', `${kind} ${value}: ${JSON.stringify(r.messageResponse)}`);
      return r.messageResponse.value.fileDescriptorProto;
    },
    /** Any request; the response's oneof as { case, value }. */
    async raw<T>(messageRequest: { case: string; value: unknown }): Promise<{ case: string; value: T }> {
      return (await ask({ messageRequest })).messageResponse as { case: string; value: T };
    },
    /** A session left open (ask() ends each one after its answer). */
    open: () => client.info(),
    close: () => client.close(),
  };
}

/** Fetches the file defining `symbol` and, through reflection, every file it depends on. */
async function registryFor(r: ReturnType<typeof reflectionClient>, symbol: string): Promise<FileRegistry> {
  const files = new Map<string, FileDescriptorProto>();
  const queue = await r.files('fileContainingSymbol', symbol);
  while (queue.length) {
    const f = queue.shift()!;
    if (files.has(f.name)) continue;
    files.set(f.name, f);
    for (const dep of f.dependency) if (!files.has(dep)) queue.push(...(await r.files('fileByFilename', dep)));
  }
  // Dependencies first (the order a FileDescriptorSet is read in); a dependency that reflection
  // did not supply stays missing, and createFileRegistry then throws, as strict clients do.
  const ordered: FileDescriptorProto[] = [];
  const visit = (f: FileDescriptorProto) => {
    if (ordered.includes(f)) return;
    for (const dep of f.dependency) if (files.has(dep)) visit(files.get(dep)!);
    ordered.push(f);
  };
  for (const f of files.values()) visit(f);
  return createFileRegistry({ $typeName: 'google.protobuf.FileDescriptorSet', file: ordered } as never);
}

for (const version of ['v1', 'v1alpha'] as const) {
  test(`reflection ${version}: list shows the app, health and both reflection services`, async () => {
    const r = reflectionClient(version);
    try {
      const list = await r.list();
      assert.ok(list.includes('crypto.CryptoService'), list.join(', '));
      // Exactly the services of the repository's protos (its apps serve them all), health and reflection.
      const builtin = ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];
      assert.deepEqual([...list].sort(), [...protoServices(), ...builtin].sort());
    } finally {
      r.close();
    }
  });

  test(`reflection ${version}: every method of every service resolves strictly, and GetCoin (with Timestamps) is callable dynamically`, async () => {
    const r = reflectionClient(version);
    try {
      for (const name of await r.list()) {
        const reg = await registryFor(r, name);
        const service = reg.getService(name);
        assert.ok(service, `${name} is described`);
        for (const m of service.methods) {
          // What `grpcurl describe pkg.Service.Method` asks for: the file containing the method.
          const byMethod = (await registryFor(r, `${name}.${m.name}`)).getService(name)?.methods.find((x) => x.name === m.name);
          assert.ok(byMethod, `${name}.${m.name} is found by its own symbol`);
          assert.equal(byMethod.input.typeName, m.input.typeName);
          assert.equal(byMethod.output.typeName, m.output.typeName);
        }
      }
      const reg = await registryFor(r, 'crypto.CryptoService');
      const getCoin = reg.getService('crypto.CryptoService')!.methods.find((m) => m.name === 'GetCoin')!;
      assert.equal(getCoin.output.typeName, 'crypto.CoinResponse');
      const coinDesc = reg.getMessage('crypto.Coin')!;
      assert.equal(coinDesc.fields.find((f) => f.name === 'created_at')?.message?.typeName, 'google.protobuf.Timestamp');
      const reply = await dynamicCall(`/crypto.CryptoService/GetCoin`, getCoin.input, getCoin.output, { symbol: 'BTC' });
      const coin = (reply as { coin: { symbol: string; createdAt: { seconds: bigint } } }).coin;
      assert.equal(coin.symbol, 'BTC');
      assert.ok(coin.createdAt.seconds > 0n, 'the Timestamp decoded through the reflected descriptors');
    } finally {
      r.close();
    }
  });

  test(`reflection ${version}: every file is served byte for byte as buf wrote it`, async () => {
    const r = reflectionClient(version);
    try {
      const files = [...splitFileSet(readFileSync(new URL('../generated/descriptors.binpb', import.meta.url))), ...builtinRawFiles()];
      for (const file of files) {
        const [first] = await r.bytes('fileByFilename', file.proto.name);
        assert.ok(first && Buffer.from(first).equals(Buffer.from(file.bytes)), `${file.proto.name} is unchanged`);
      }
    } finally {
      r.close();
    }
  });
}

test('the decoder is strict: a file without the files it imports does not build a registry', () => {
  const set = splitFileSet(readFileSync(new URL('../generated/descriptors.binpb', import.meta.url)));
  const crypto = set.find((f) => f.proto.name === 'crypto_service.proto')!;
  assert.ok(crypto.proto.dependency.includes('google/protobuf/timestamp.proto'));
  assert.throws(() => createFileRegistry({ $typeName: 'google.protobuf.FileDescriptorSet', file: [crypto.proto] } as never));
});

async function dynamicCall(path: string, input: DescMessage, output: DescMessage, request: object): Promise<unknown> {
  const Ctor = makeGenericClientConstructor(
    {
      call: {
        path,
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: unknown) => Buffer.from(toBinary(input, create(input, m as never))),
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (m: unknown) => m as Buffer,
        responseDeserialize: (b: Buffer) => fromBinary(output, b),
      },
    },
    'D',
  );
  const client = new Ctor(app.address, credentials.createInsecure()) as unknown as Client & {
    call(r: unknown, cb: (e: Error | null, v: unknown) => void): void;
  };
  try {
    return await new Promise((resolve, reject) => client.call(request, (e, v) => (e ? reject(e) : resolve(v))));
  } finally {
    client.close();
  }
}

// Descriptors that a re-encoding reflection would damage: a custom option (an unknown field to
// any decoder that lacks the extension), a proto3 `optional`, an editions file. Served in-process
// from a set buf builds here, with no app service: reflection describes what it is given.
const RICH: Record<string, string> = {
  'rich/opts.proto': `syntax = "proto3";
package rich;
import "google/protobuf/descriptor.proto";
extend google.protobuf.FieldOptions { string label = 50001; }
`,
  'rich/item.proto': `syntax = "proto3";
package rich;
import "google/protobuf/timestamp.proto";
import "google/protobuf/empty.proto";
import "rich/opts.proto";
message Item {
  optional string nick = 1 [(rich.label) = "nickname"];
  map<string, int64> counts = 2;
  google.protobuf.Timestamp at = 3;
  enum Kind { KIND_UNSPECIFIED = 0; KIND_COIN = 1; }
  Kind kind = 4;
}
service Items { rpc Get(google.protobuf.Empty) returns (Item); }
`,
  'rich/ed.proto': `edition = "2023";
package rich.ed;
message Plain { string s = 1 [features.field_presence = IMPLICIT]; int32 n = 2; }
`,
};

describe('reflection of descriptors a re-encoder would damage', () => {
  let dir: string;
  let server: CfgServer;
  let address: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cfg-reflection-'));
    for (const [name, text] of Object.entries(RICH)) {
      mkdirSync(join(dir, 'proto', dirname(name)), { recursive: true });
      writeFileSync(join(dir, 'proto', name), text);
    }
    const buf = bufCommand();
    execFileSync(
      buf.file,
      [...buf.args, 'build', '.', '--as-file-descriptor-set', '--exclude-source-info', '-o', join(dir, DESCRIPTOR_SET)],
      { cwd: join(dir, 'proto'), timeout: 30_000 },
    );
    server = new CfgServer(defaults(dir));
    await addReflectionService(server, dir);
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  });
  after(async () => {
    server?.forceShutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every file comes back byte for byte, and the custom option, optional and editions survive', async () => {
    const r = reflectionClient('v1', address);
    try {
      for (const file of splitFileSet(readFileSync(join(dir, DESCRIPTOR_SET)))) {
        const [first] = await r.bytes('fileByFilename', file.proto.name);
        assert.ok(first && Buffer.from(first).equals(Buffer.from(file.bytes)), `${file.proto.name} is unchanged`);
      }
      const reg = await registryFor(r, 'rich.Items.Get');
      const item = reg.getMessage('rich.Item')!;
      const nick = item.fields.find((f) => f.name === 'nick')!;
      assert.equal(getOption(nick, reg.getExtension('rich.label')!), 'nickname');
      assert.equal(nick.presence, 1, 'proto3 optional keeps explicit presence');
      assert.equal(item.oneofs.length, 0, 'the synthetic oneof of an optional field stays synthetic');
      assert.equal(item.fields.find((f) => f.name === 'at')?.message?.typeName, 'google.protobuf.Timestamp');
      const plain = (await registryFor(r, 'rich.ed.Plain')).getMessage('rich.ed.Plain')!;
      assert.equal(plain.fields.find((f) => f.name === 's')?.presence, 2, 'the editions feature is kept');
    } finally {
      r.close();
    }
  });

  test('extensions are found by containing type and number; unknown names are NOT_FOUND', async () => {
    const r = reflectionClient('v1alpha', address);
    try {
      const numbers = await r.raw<{ baseTypeName: string; extensionNumber: number[] }>({
        case: 'allExtensionNumbersOfType',
        value: 'google.protobuf.FieldOptions',
      });
      assert.equal(numbers.case, 'allExtensionNumbersResponse');
      assert.deepEqual(numbers.value.extensionNumber, [50001]);
      const ext = await r.raw<{ fileDescriptorProto: Uint8Array[] }>({
        case: 'fileContainingExtension',
        value: { containingType: 'google.protobuf.FieldOptions', extensionNumber: 50001 },
      });
      assert.equal(ext.case, 'fileDescriptorResponse');
      assert.deepEqual(
        ext.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name),
        ['rich/opts.proto', 'google/protobuf/descriptor.proto'],
      );
      for (const request of [
        { case: 'fileContainingSymbol', value: 'rich.Nope' },
        { case: 'fileByFilename', value: 'nope.proto' },
        { case: 'allExtensionNumbersOfType', value: 'rich.Nope' },
      ]) {
        const res = await r.raw<{ errorCode: number }>(request);
        assert.equal(res.case, 'errorResponse', request.value);
        assert.equal(res.value.errorCode, status.NOT_FOUND);
      }
      assert.deepEqual(await r.list(), ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']);
    } finally {
      r.close();
    }
  });

  test('an open reflection stream does not hold up graceful shutdown', async () => {
    const held = new CfgServer(defaults(dir));
    await addReflectionService(held, dir);
    const port = await held.listen('127.0.0.1', 0);
    const r = reflectionClient('v1', `127.0.0.1:${port}`);
    try {
      const call = r.open();
      // Held open, the stream would be cancelled when the grace period runs out ('error'), not ended.
      const ended = new Promise<string>((resolve) => {
        call.on('end', () => resolve('end'));
        call.on('error', (e: Error) => resolve(e.message));
      });
      call.on('data', () => {});
      const first = new Promise((resolve) => call.once('data', resolve));
      call.write({ messageRequest: { case: 'listServices', value: '' } });
      await first;
      await held.shutdown(5_000);
      assert.equal(await ended, 'end');
    } finally {
      r.close();
      held.forceShutdown();
    }
  });
});
