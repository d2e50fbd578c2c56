// A request message's compressed flag, over raw HTTP/2 (node:http2) to a running `cfg rungrpc`:
// flag 1 without a message encoding (no grpc-encoding header, or identity) and a flag other than
// 0 or 1 are protocol errors (PROTOCOL-HTTP2.md): INTERNAL with a message naming the problem, on a
// unary and a client-streaming method; a valid gzip frame still works and the server keeps serving.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { frame, rawCall } from './support/raw-grpc.ts';
import { importFrom, makeProject, type CfgProcess, type Project } from './fixtures/project.ts';

type Encoder = { encode(m: unknown): { finish(): Uint8Array }; decode(b: Uint8Array): Record<string, unknown> };
let project: Project;
let proc: CfgProcess;
let session: http2.ClientHttp2Session;
let hello: Uint8Array;
let count: Uint8Array;
let Total: Encoder;

before(async () => {
  project = await makeProject({ apps: ['greeter'], config: { logging: { logCalls: false } } });
  const mod = await importFrom(project, 'generated/greeter.ts');
  hello = (mod.HelloRequest as Encoder).encode({ name: 'hello' }).finish();
  count = (mod.Count as Encoder).encode({ value: 7 }).finish();
  Total = mod.Total as Encoder;
  proc = project.spawn(['rungrpc']);
  session = http2.connect(`http://127.0.0.1:${await proc.port()}`);
});
after(async () => {
  session?.close();
  await proc?.stop();
  await project?.remove();
});

const NO_ENCODING =
  'Protocol error: a message has compressed flag 1 but the call has no message encoding (grpc-encoding is absent or identity); send flag 0, or set grpc-encoding to the algorithm used';
const badFlag = (hex: string) =>
  `Protocol error: a message's compressed flag is 0x${hex}; only 0 (uncompressed) and 1 (compressed) are defined`;

const CASES: Array<{ name: string; flag: number; headers: Record<string, string>; message: string }> = [
  { name: 'flag 1, no grpc-encoding', flag: 1, headers: {}, message: NO_ENCODING },
  { name: 'flag 1, grpc-encoding identity', flag: 1, headers: { 'grpc-encoding': 'identity' }, message: NO_ENCODING },
  { name: 'flag 0xff', flag: 0xff, headers: {}, message: badFlag('ff') },
  { name: 'flag 0x02 with grpc-encoding gzip', flag: 2, headers: { 'grpc-encoding': 'gzip' }, message: badFlag('02') },
];

test('unary: an invalid compressed flag is INTERNAL with a precise message', async () => {
  for (const c of CASES) {
    const reply = await rawCall(session, '/fixture.Greeter/SayHello', frame(hello, { flag: c.flag }), c.headers);
    assert.deepEqual([reply.status, reply.message], ['13', c.message], c.name);
  }
});

test('client streaming: a bad frame after good ones is INTERNAL, whatever came before', async () => {
  for (const c of CASES) {
    const body = Buffer.concat([frame(count), frame(count), frame(count, { flag: c.flag })]);
    const reply = await rawCall(session, '/fixture.Greeter/Sum', body, c.headers);
    assert.deepEqual([reply.status, reply.message], ['13', c.message], c.name);
  }
});

test('valid frames still work: flag 0, and flag 1 with grpc-encoding gzip; the server keeps serving', async () => {
  const plain = await rawCall(session, '/fixture.Greeter/SayHello', frame(hello));
  assert.equal(plain.status, '0');
  const zipped = await rawCall(session, '/fixture.Greeter/SayHello', frame(gzipSync(hello), { flag: 1 }), { 'grpc-encoding': 'gzip' });
  assert.equal(zipped.status, '0', zipped.message);
  const sum = await rawCall(session, '/fixture.Greeter/Sum', Buffer.concat([frame(count), frame(gzipSync(count), { flag: 1 })]), {
    'grpc-encoding': 'gzip',
  });
  assert.equal(sum.status, '0', sum.message);
  assert.deepEqual({ ...Total.decode(sum.body.subarray(5)) }, { sum: 14, count: 2 });
  assert.ok(proc.running);
  assert.doesNotMatch(proc.stderr, /unhandled|uncaught/i);
});
