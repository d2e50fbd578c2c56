// `cfg generate-proto`, run as a user runs it (bin/cfg.js in a temp project): well-known type
// imports, stubs that type-check and work, buf's errors with file:line:column and no partial
// output, empty and missing proto dirs, determinism (the rest: generate-proto-dirs.test.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { REPO } from './fixtures/project.ts';
import { assertSameFiles, CLOCK, GREETER, project, snapshot } from './support/proto-project.ts';

describe('generating stubs', () => {
  test('a proto importing google/protobuf/timestamp.proto and empty.proto: stubs, descriptor set, and they work', async () => {
    const p = await project({ 'proto/clock.proto': CLOCK });
    const { code, stdout, stderr } = await p.run(['generate-proto']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^generated 1 proto file\(s\) -> generated\/ \(4 files\) in \d+ ms\n$/);
    const files = await snapshot(p.path('generated'));
    assert.deepEqual([...files.keys()].sort(), [
      '.proto-manifest.json',
      'clock.ts',
      'descriptors.binpb',
      'google/protobuf/empty.ts',
      'google/protobuf/timestamp.ts',
    ]);

    const stub = files.get('clock.ts')!.toString();
    assert.match(stub, /export const ClockService = \{/);
    assert.match(stub, /path: "\/clock\.v1\.Clock\/Now"/);
    assert.match(stub, /export interface ClockServer extends UntypedServiceImplementation/);
    assert.match(stub, /export const ClockClient = makeGenericClientConstructor/);
    assert.match(stub, /\bat: Date \| undefined;/, 'Timestamp is a Date');
    assert.match(stub, /seq: bigint;/, 'int64 is a bigint');
    assert.match(
      stub,
      /source: \{ \$case: "zone"; value: string \} \| \{ \$case: "offsetMinutes"; value: number \} \| undefined;/,
      'oneofs are tagged unions',
    );
    assert.match(stub, /from "\.\/google\/protobuf\/timestamp\.js"/, 'ESM imports with .js suffixes');

    // The descriptor set reflection serves holds the file and everything it imports.
    const set = fromBinary(FileDescriptorSetSchema, files.get('descriptors.binpb')!);
    assert.deepEqual(set.file.map((f) => f.name).sort(), ['clock.proto', 'google/protobuf/empty.proto', 'google/protobuf/timestamp.proto']);

    // The stubs run: a message round-trips through its binary encoding.
    const mod = (await import(pathToFileURL(p.path('generated', 'clock.ts')).href)) as {
      Tick: { encode(m: unknown): { finish(): Uint8Array }; decode(b: Uint8Array): unknown };
    };
    const tick = { at: new Date('2025-01-02T03:04:05.678Z'), seq: 2n ** 60n, source: { $case: 'zone', value: 'UTC' } };
    assert.deepEqual(mod.Tick.decode(mod.Tick.encode(tick).finish()), tick);
  });

  test("the stubs type-check with tsc --noEmit, under the project's strict settings", async () => {
    const p = await project({
      'proto/clock.proto': CLOCK,
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: ['node'],
          typeRoots: [join(REPO, 'node_modules', '@types')],
          strict: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
          isolatedModules: true,
          skipLibCheck: true,
          noEmit: true,
        },
        include: ['generated/**/*.ts', 'use.ts'],
      }),
      // Typed use of what was generated: a server implementation and a client call.
      'use.ts': `import { credentials, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import type { Empty } from './generated/google/protobuf/empty.js';
import { ClockClient, type ClockServer, type Tick, type TickRequest } from './generated/clock.js';

export const impl: ClockServer = {
  now(_call: ServerUnaryCall<Empty, Tick>, callback: sendUnaryData<Tick>) {
    callback(null, { at: new Date(), seq: 1n, source: { $case: 'offsetMinutes', value: 60 } });
  },
  ticks(call: ServerWritableStream<TickRequest, Tick>) {
    call.write({ at: undefined, seq: BigInt(call.request.count), source: undefined });
    call.end();
  },
};

const client = new ClockClient('127.0.0.1:1', credentials.createInsecure());
client.now({}, (err, tick) => {
  const seq: bigint | undefined = tick?.seq;
  console.log(err, seq);
});
`,
    });
    const gen = await p.run(['generate-proto']);
    assert.equal(gen.code, 0, gen.stderr);
    const tsc = await promisify(execFile)(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', p.root], {
      cwd: p.root,
      timeout: 60_000,
    }).then(
      (r) => ({ ok: true, out: r.stdout }),
      (err: { stdout?: string; message: string }) => ({ ok: false, out: err.stdout || err.message }),
    );
    assert.ok(tsc.ok, tsc.out);
  });

  test('deterministic: the same protos give byte-identical files, run after run and dir after dir', async () => {
    const p = await project({ 'proto/clock.proto': CLOCK, 'proto/greet/greeter.proto': GREETER });
    assert.equal((await p.run(['generate-proto', '--output-dir', 'out/a'])).code, 0);
    const first = await snapshot(p.path('out', 'a'));
    assert.equal((await p.run(['generate-proto', '--output-dir', 'out/a'])).code, 0);
    assertSameFiles(await snapshot(p.path('out', 'a')), first);
    assert.equal((await p.run(['generate-proto', '--output-dir', 'out/b'])).code, 0);
    assertSameFiles(await snapshot(p.path('out', 'b')), first);
    assert.ok(first.has('greet/greeter.ts'), 'sub-folders of proto/ are kept');
  });

  test('a proto removed: its stub goes, other files in the output dir stay', async () => {
    const p = await project({ 'proto/clock.proto': CLOCK, 'proto/greeter.proto': GREETER, 'generated/prisma/client.ts': 'export {};\n' });
    assert.equal((await p.run(['generate-proto'])).code, 0);
    await rm(p.path('proto', 'clock.proto'));
    const { code, stdout } = await p.run(['generate-proto']);
    assert.equal(code, 0);
    assert.match(stdout, /generated 1 proto file\(s\)/);
    assert.deepEqual([...(await snapshot(p.path('generated'))).keys()].sort(), [
      '.proto-manifest.json',
      'descriptors.binpb',
      'greeter.ts',
      'prisma/client.ts',
    ]);
  });
});

describe('errors', () => {
  const broken = `syntax = "proto3";

message Broken {
  strin name = 1;
}
`;
  test("a broken proto: non-zero exit, buf's file:line:column, previous output untouched", async () => {
    const p = await project({ 'proto/clock.proto': CLOCK });
    assert.equal((await p.run(['generate-proto'])).code, 0);
    const before = await snapshot(p.path('generated'));

    await p.write('proto/broken.proto', broken);
    const { code, stdout, stderr } = await p.run(['generate-proto']);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /^error E_PROTO_COMPILE buf could not compile proto\/:\nproto\/broken\.proto:4:3:.*strin/m);
    assert.match(stderr, /^hint {2}Fix the \.proto at the place shown; generated\/ was left as it was\.$/m);
    assertSameFiles(await snapshot(p.path('generated')), before);
  });

  test('a syntax error in a fresh project: nothing is written at all', async () => {
    const p = await project({ 'proto/clock.proto': CLOCK, 'proto/bad.proto': 'syntax = "proto3";\nmessage Bad {\n  string name = 1\n}\n' });
    const { code, stderr } = await p.run(['generate-proto']);
    assert.equal(code, 1);
    assert.match(stderr, /proto\/bad\.proto:4:1:/);
    assert.equal((await snapshot(p.path('generated'))).size, 0);
  });

  test('a missing, empty or file proto dir says so', async () => {
    const p = await project({ 'empty/README.md': 'no protos here\n', 'file.proto': GREETER });
    const missing = await p.run(['generate-proto']);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^error E_PROTO_DIR Proto directory proto\/ does not exist\.\nhint {2}Create it and put your \.proto files there, or pass --proto-dir DIR\.\n$/,
    );
    const empty = await p.run(['generate-proto', '--proto-dir', 'empty']);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^error E_PROTO_DIR Proto directory empty\/ has no \.proto files\./);
    const file = await p.run(['generate-proto', '--proto-dir', 'file.proto']);
    assert.equal(file.code, 1);
    assert.match(file.stderr, /^error E_PROTO_DIR Proto directory file\.proto\/ is a file, not a directory\./);
    assert.equal((await snapshot(p.path('generated'))).size, 0);
  });
});
