// Reflection as grpcurl uses it, checked with a strict, independent decoder: the descriptors the
// server returns (v1 and v1alpha) must build a @bufbuild/protobuf registry on their own, every
// dependency fetched through reflection (a missing one fails), and a method whose messages import
// google/protobuf/timestamp.proto must be callable dynamically from them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { create, createFileRegistry, fromBinary, toBinary, type DescMessage, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { credentials, makeGenericClientConstructor, type Client } from '@grpc/grpc-js';
import { builtinFiles } from '../src/proto/descriptors.ts';
import { startCrypto, type CryptoEnv } from './support/crypto-env.ts';

let app: CryptoEnv;
before(async () => {
  app = await startCrypto('sqlite');
});
after(async () => {
  await app?.stop();
});

/** A bidi reflection session speaking one version, encoding with the reflection protos' descriptors. */
function reflectionClient(version: 'v1' | 'v1alpha') {
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
  const client = new Ctor(app.address, credentials.createInsecure()) as unknown as Client & { info(): NodeJS.EventEmitter & { write(m: unknown): void; end(): void } };
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
      const r = (await ask({ messageRequest: { case: 'listServices', value: '' } })) as { messageResponse: { case: string; value: { service: Array<{ name: string }> } } };
      assert.equal(r.messageResponse.case, 'listServicesResponse');
      return r.messageResponse.value.service.map((s) => s.name).sort();
    },
    async files(kind: 'fileContainingSymbol' | 'fileByFilename', value: string): Promise<FileDescriptorProto[]> {
      const r = (await ask({ messageRequest: { case: kind, value } })) as { messageResponse: { case: string; value: { fileDescriptorProto: Uint8Array[] } } };
      assert.equal(r.messageResponse.case, 'fileDescriptorResponse', `${kind} ${value}: ${JSON.stringify(r.messageResponse)}`);
      return r.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
    },
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
      assert.deepEqual(await r.list(), ['crypto.CryptoService', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']);
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
          assert.ok(m.input.typeName && m.output.typeName, `${name}/${m.name} has resolvable types`);
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
}

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
  const client = new Ctor(app.address, credentials.createInsecure()) as unknown as Client & { call(r: unknown, cb: (e: Error | null, v: unknown) => void): void };
  try {
    return await new Promise((resolve, reject) => client.call(request, (e, v) => (e ? reject(e) : resolve(v))));
  } finally {
    client.close();
  }
}
