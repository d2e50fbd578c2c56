// `cfg generate-proto`, run as a user runs it (bin/cfg.js in a temp project): well-known type
// imports, stubs that type-check and work, buf's errors with file:line:column and no partial
// output, --proto-dir/--output-dir, empty and missing proto dirs, determinism, and --watch.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { stubsAreStale } from '../src/proto/generate.ts';
import { configText, Project, REPO, tempDir } from './fixtures/project.ts';

const CLOCK = `syntax = "proto3";

package clock.v1;

import "google/protobuf/empty.proto";
import "google/protobuf/timestamp.proto";

// Tells the time.
service Clock {
  rpc Now(google.protobuf.Empty) returns (Tick);
  rpc Ticks(TickRequest) returns (stream Tick);
}

message TickRequest {
  int32 count = 1;
}

message Tick {
  google.protobuf.Timestamp at = 1;
  int64 seq = 2;
  oneof source {
    string zone = 3;
    int32 offset_minutes = 4;
  }
}
`;

const GREETER = `syntax = "proto3";

package greet;

service Greeter {
  rpc Hello(HelloRequest) returns (HelloReply);
}

message HelloRequest {
  string name = 1;
}

message HelloReply {
  string message = 1;
}
`;

const projects: Project[] = [];
after(async () => {
  for (const p of projects) await p.remove();
});

/** A bare project: package.json, node_modules, an empty cfg.config.ts (unless given), the given files. */
async function project(files: Record<string, string>): Promise<Project> {
  const p = new Project(await tempDir('cfg-gen-'));
  projects.push(p);
  await writeFile(p.path('package.json'), '{ "type": "module", "private": true }\n');
  await symlink(join(REPO, 'node_modules'), p.path('node_modules'), 'dir');
  for (const [path, text] of Object.entries({ 'cfg.config.ts': configText({}), ...files })) await p.write(path, text);
  return p;
}

/** Every file under `dir` (relative path -> bytes), or an empty map if it does not exist. */
async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.set(relative(dir, path), await readFile(path));
    }
  };
  await walk(dir);
  return out;
}

function assertSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [path, bytes] of expected) assert.ok(actual.get(path)!.equals(bytes), `${path} differs`);
}

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
    assert.match(stub, /source: \{ \$case: "zone"; value: string \} \| \{ \$case: "offsetMinutes"; value: number \} \| undefined;/, 'oneofs are tagged unions');
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

  test('the stubs type-check with tsc --noEmit, under the project\'s strict settings', async () => {
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
    const tsc = await promisify(execFile)(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', p.root], { cwd: p.root, timeout: 60_000 }).then(
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
    assert.deepEqual([...(await snapshot(p.path('generated'))).keys()].sort(), ['.proto-manifest.json', 'descriptors.binpb', 'greeter.ts', 'prisma/client.ts']);
  });
});

describe('errors', () => {
  const broken = `syntax = "proto3";

message Broken {
  strin name = 1;
}
`;
  test('a broken proto: non-zero exit, buf\'s file:line:column, previous output untouched', async () => {
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
    assert.match(missing.stderr, /^error E_PROTO_DIR Proto directory proto\/ does not exist\.\nhint {2}Create it and put your \.proto files there, or pass --proto-dir DIR\.\n$/);
    const empty = await p.run(['generate-proto', '--proto-dir', 'empty']);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^error E_PROTO_DIR Proto directory empty\/ has no \.proto files\./);
    const file = await p.run(['generate-proto', '--proto-dir', 'file.proto']);
    assert.equal(file.code, 1);
    assert.match(file.stderr, /^error E_PROTO_DIR Proto directory file\.proto\/ is a file, not a directory\./);
    assert.equal((await snapshot(p.path('generated'))).size, 0);
  });
});

describe('where protos come from and stubs go', () => {
  test('--proto-dir and --output-dir, relative to where cfg runs', async () => {
    const p = await project({ 'api/protos/greeter.proto': GREETER });
    const run = await p.run(['generate-proto', '--proto-dir', 'api/protos', '--output-dir', 'build/stubs']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /-> build\/stubs\/ /);
    assert.ok((await snapshot(p.path('build', 'stubs'))).has('greeter.ts'));
    assert.equal((await snapshot(p.path('generated'))).size, 0);

    await mkdir(p.path('work'));
    const fromWork = await new Project(p.path('work')).run(['generate-proto', '--proto-dir', '../api/protos', '--output-dir', 'out']);
    assert.equal(fromWork.code, 0, fromWork.stderr);
    assert.ok((await snapshot(p.path('work', 'out'))).has('greeter.ts'));
  });

  test('grpc.proto.protoDir/outputDir from cfg.config.ts, relative to the project root even from a subfolder; flags win', async () => {
    const p = await project({
      'cfg.config.ts': configText({ grpc: { proto: { protoDir: 'schemas', outputDir: 'src/stubs' } } }),
      'schemas/greeter.proto': GREETER,
      'other/clock.proto': CLOCK,
      'apps/crypto/.keep': '',
    });
    const sub = new Project(p.path('apps', 'crypto'));
    const fromSub = await sub.run(['generate-proto']);
    assert.equal(fromSub.code, 0, fromSub.stderr);
    assert.match(fromSub.stdout, /-> \.\.\/\.\.\/src\/stubs\//);
    assert.ok((await snapshot(p.path('src', 'stubs'))).has('greeter.ts'));

    const flags = await p.run(['generate-proto', '--proto-dir', 'other']);
    assert.equal(flags.code, 0, flags.stderr);
    const stubs = await snapshot(p.path('src', 'stubs'));
    assert.ok(stubs.has('clock.ts') && !stubs.has('greeter.ts'), 'the flag replaced the proto dir; the output dir still comes from the config');
  });
});

describe('stubsAreStale (rungrpc\'s auto-generation check)', () => {
  test('fresh after generation; stale when a proto is newer, added or removed', async () => {
    const p = await project({ 'proto/greeter.proto': GREETER });
    const [protoDir, outputDir] = [p.path('proto'), p.path('generated')];
    assert.equal(await stubsAreStale(protoDir, outputDir), true, 'never generated');
    assert.equal((await p.run(['generate-proto'])).code, 0);
    assert.equal(await stubsAreStale(protoDir, outputDir), false);

    const later = new Date(Date.now() + 60_000);
    await utimes(p.path('proto', 'greeter.proto'), later, later);
    assert.equal(await stubsAreStale(protoDir, outputDir), true, 'a proto changed after generation');
    assert.equal((await p.run(['generate-proto'])).code, 0);
    const past = new Date(Date.now() - 60_000);
    await utimes(p.path('proto', 'greeter.proto'), past, past);

    await p.write('proto/clock.proto', CLOCK);
    await utimes(p.path('proto', 'clock.proto'), past, past);
    assert.equal(await stubsAreStale(protoDir, outputDir), true, 'a proto added (even with an old mtime)');
    assert.equal((await p.run(['generate-proto'])).code, 0);
    assert.equal(await stubsAreStale(protoDir, outputDir), false);
    await rm(p.path('proto', 'clock.proto'));
    assert.equal(await stubsAreStale(protoDir, outputDir), true, 'a proto removed');
  });
});

describe('--watch', () => {
  test('regenerates on each change, one line per run with its time, and survives a broken file until it is fixed', async () => {
    const p = await project({ 'proto/greeter.proto': GREETER });
    const watch = p.spawn(['generate-proto', '--watch']);
    try {
      await watch.waitFor('stdout', /watching proto\/ for \.proto changes/);
      const line = /^\d\d:\d\d:\d\d (?:greeter\.proto changed: )?generated 1 proto file\(s\) -> generated\/ \(2 files\) in \d+ ms$/m;
      await watch.waitFor('stdout', line, 1);

      await p.write('proto/greeter.proto', GREETER.replace('string message = 1;', 'string message = 1;\n  int32 count = 2;'));
      await watch.waitFor('stdout', /^\d\d:\d\d:\d\d greeter\.proto changed: generated 1 proto file\(s\) -> generated\/ \(2 files\) in \d+ ms$/m, 1);
      assert.match(await p.read('generated/greeter.ts'), /count: number;/);

      const good = await snapshot(p.path('generated'));
      await p.write('proto/greeter.proto', GREETER.replace('string name = 1;', 'strin name = 1;'));
      await watch.waitFor('stderr', /^\d\d:\d\d:\d\d greeter\.proto changed: failed in \d+ ms: proto\/greeter\.proto:10:3:.*strin.* \(generated\/ left as it was; waiting for a fix\)$/m);
      assert.ok(watch.running, 'still watching after a broken file');
      assertSameFiles(await snapshot(p.path('generated')), good);

      await p.write('proto/greeter.proto', GREETER);
      await watch.waitFor('stdout', /^\d\d:\d\d:\d\d greeter\.proto changed: generated 1 proto file\(s\)/m, 2);
      assert.doesNotMatch(await p.read('generated/greeter.ts'), /count: number;/);
      assert.equal(watch.stderr.split('\n').filter(Boolean).length, 1, `one line for the failed run:\n${watch.stderr}`);

      // A proto added, then removed: its stubs come, then go.
      await p.write('proto/clock.proto', CLOCK);
      await watch.waitFor('stdout', /^\d\d:\d\d:\d\d clock\.proto changed: generated 2 proto file\(s\) -> generated\/ \(5 files\) in \d+ ms$/m);
      assert.ok((await snapshot(p.path('generated'))).has('clock.ts'));
      await rm(p.path('proto', 'clock.proto'));
      await watch.waitFor('stdout', /^\d\d:\d\d:\d\d clock\.proto changed: generated 1 proto file\(s\) -> generated\/ \(2 files\) in \d+ ms$/m);
      assert.deepEqual([...(await snapshot(p.path('generated'))).keys()].sort(), ['.proto-manifest.json', 'descriptors.binpb', 'greeter.ts']);

      watch.kill('SIGTERM');
      assert.deepEqual(await watch.exited, { code: 0, signal: null });
    } finally {
      await watch.stop();
    }
  });

  test('a missing proto dir: nothing to watch, non-zero exit', async () => {
    const p = await project({});
    const { code, stderr } = await p.run(['generate-proto', '--watch']);
    assert.equal(code, 1);
    assert.match(stderr, /^error E_PROTO_DIR Proto directory proto\/ does not exist: nothing to watch\./);
  });
});
