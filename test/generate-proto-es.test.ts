// `cfg generate-proto` with browser clients (grpc.proto.es, --es / --no-es): protoc-gen-es's
// messages and service descriptors in generated/es/, beside the ts-proto stubs, on the same wire.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { create, toBinary, type DescMessage, type DescService } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { configText } from './fixtures/project.ts';
import { CLOCK, project, snapshot } from './support/proto-project.ts';
import { stubsAreStale } from '../src/proto/generate.ts';

test("--es: generated/es/ holds ECMAScript messages and the service descriptor; their bytes are the ts-proto stubs' bytes", async () => {
  const p = await project({ 'proto/clock.proto': CLOCK });
  const { code, stdout, stderr } = await p.run(['generate-proto', '--es']);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^generated 1 proto file\(s\) -> generated\/ \(5 files\) and browser clients -> generated\/es\/ in \d+ ms\n$/);
  const files = await snapshot(p.path('generated'));
  assert.ok(files.has('es/clock_pb.ts'), [...files.keys()].join(', '));
  assert.ok(!files.has('es/google/protobuf/timestamp_pb.ts'), 'well-known types come from @bufbuild/protobuf/wkt');

  const es = (await import(pathToFileURL(p.path('generated', 'es', 'clock_pb.ts')).href)) as {
    TickSchema: DescMessage;
    Clock: DescService;
  };
  assert.deepEqual(
    es.Clock.methods.map((m) => [m.name, m.methodKind]),
    [
      ['Now', 'unary'],
      ['Ticks', 'server_streaming'],
    ],
  );
  assert.equal(es.Clock.typeName, 'clock.v1.Clock');
  const at = new Date('2025-01-02T03:04:05.678Z');
  const bytes = toBinary(
    es.TickSchema,
    create(es.TickSchema, { at: timestampFromDate(at), seq: 2n ** 60n, source: { case: 'zone', value: 'UTC' } } as never),
  );
  const stub = (await import(pathToFileURL(p.path('generated', 'clock.ts')).href)) as { Tick: { decode(b: Uint8Array): unknown } };
  assert.deepEqual(stub.Tick.decode(bytes), { at, seq: 2n ** 60n, source: { $case: 'zone', value: 'UTC' } });
});

test('grpc.proto.es in cfg.config.ts turns it on, --no-es off (its files removed); stubs made without it are stale for rungrpc', async () => {
  const p = await project({ 'proto/clock.proto': CLOCK, 'cfg.config.ts': configText({ grpc: { proto: { es: true } } }) });
  assert.equal((await p.run(['generate-proto'])).code, 0);
  assert.ok((await snapshot(p.path('generated'))).has('es/clock_pb.ts'));
  assert.equal(await stubsAreStale(p.path('proto'), p.path('generated'), true), false);
  assert.equal(await stubsAreStale(p.path('proto'), p.path('generated'), false), true, 'made with es: stale for a config without it');

  const off = await p.run(['generate-proto', '--no-es']);
  assert.equal(off.code, 0, off.stderr);
  assert.doesNotMatch(off.stdout, /browser clients/);
  const keys = [...(await snapshot(p.path('generated'))).keys()];
  assert.ok(!keys.some((k) => k.startsWith('es/')), keys.join(', '));
  assert.equal(await stubsAreStale(join(p.root, 'proto'), p.path('generated'), true), true, 'made without es: stale for a config with it');
});
