// Server settings beyond the guide take effect on a real server: compressed requests, compressed
// responses negotiated with the client, message size limits (also after decompression),
// keepalive and connection age options.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { configureLogging } from '../src/log/logger.ts';
import { callError, TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom } from './fixtures/project.ts';
import { greeterServers } from './support/greeter-servers.ts';

configureLogging({ level: 'silent' });
const greeter = greeterServers();
const { serve, servers } = greeter;
let Greeter: AnyDefinition;
let HelloRequest: { encode(m: unknown): { finish(): Uint8Array } };
let HelloReply: { decode(b: Uint8Array): { message: string } };
let CountRequest: { encode(m: unknown): { finish(): Uint8Array } };
let Count: { decode(b: Uint8Array): { value: number } };

before(async () => {
  const mod = await importFrom(await greeter.project(), 'generated/greeter.ts');
  Greeter = mod.GreeterService as AnyDefinition;
  HelloRequest = mod.HelloRequest as typeof HelloRequest;
  HelloReply = mod.HelloReply as typeof HelloReply;
  CountRequest = mod.CountRequest as typeof CountRequest;
  Count = mod.Count as typeof Count;
});

function frame(payload: Uint8Array, compressed = false): Buffer {
  const b = Buffer.alloc(5 + payload.length);
  b[0] = compressed ? 1 : 0;
  b.writeUInt32BE(payload.length, 1);
  Buffer.from(payload).copy(b, 5);
  return b;
}

/** One raw HTTP/2 gRPC call: the response headers, the body bytes and the trailers. */
function rawCall(port: number, path: string, body: Buffer, headers: Record<string, string> = {}) {
  return new Promise<{ headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (head = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('trailers', (t) => (trailers = t));
    req.on('close', () => {
      resolve({ headers: head, body: Buffer.concat(chunks), trailers });
      session.close();
    });
    req.setTimeout(10_000, () => req.close());
    req.on('error', reject);
    req.end(body);
  });
}

test('a gzip- or deflate-compressing client is understood; the server advertises what it accepts', async () => {
  const port = await serve({});
  const request = HelloRequest.encode({ name: 'zip'.repeat(50) }).finish();
  for (const [encoding, compress] of [
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ] as const) {
    const reply = await rawCall(port, '/fixture.Greeter/SayHello', frame(compress(request), true), {
      'grpc-encoding': encoding,
      'grpc-accept-encoding': 'identity',
    });
    assert.equal(reply.trailers['grpc-status'], '0', `${encoding}: ${reply.trailers['grpc-message']}`);
    assert.match(String(reply.headers['grpc-accept-encoding']), /gzip/);
    assert.match(HelloReply.decode(reply.body.subarray(5)).message, /zipzip/);
  }
});

/** Splits a response body into its gRPC messages: [compressed flag, payload]. */
function messages(body: Buffer): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  for (let at = 0; at < body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push([body[at]!, body.subarray(at + 5, at + 5 + length)]);
    at += 5 + length;
  }
  return out;
}

const ACCEPT_ALL = { 'grpc-accept-encoding': 'identity,deflate,gzip' };

test('compression "gzip"/"deflate": a client that accepts it gets compressed replies, marked per message', async () => {
  const request = HelloRequest.encode({ name: 'zip'.repeat(50) }).finish();
  for (const [algorithm, inflate] of [
    ['gzip', gunzipSync],
    ['deflate', inflateSync],
  ] as const) {
    const port = await serve({ compression: algorithm });
    const reply = await rawCall(port, '/fixture.Greeter/SayHello', frame(request), ACCEPT_ALL);
    assert.equal(reply.trailers['grpc-status'], '0', `${algorithm}: ${reply.trailers['grpc-message']}`);
    assert.equal(reply.headers['grpc-encoding'], algorithm);
    const [[flag, payload]] = messages(reply.body) as [[number, Buffer]];
    assert.equal(flag, 1, `${algorithm}: the message is flagged compressed`);
    assert.match(HelloReply.decode(inflate(payload)).message, /(zip){50}/);
    assert.ok(payload.length < 100, `${algorithm}: ${payload.length} bytes on the wire for a 150-character name`);
  }
});

test('compression: every message of a server stream is compressed; grpc-js clients read them', async () => {
  const port = await serve({ compression: 'gzip' });
  const reply = await rawCall(port, '/fixture.Greeter/CountUp', frame(CountRequest.encode({ n: 3 }).finish()), ACCEPT_ALL);
  assert.equal(reply.trailers['grpc-status'], '0', String(reply.trailers['grpc-message']));
  const got = messages(reply.body).map(([flag, payload]) => {
    assert.equal(flag, 1);
    return Count.decode(gunzipSync(payload)).value;
  });
  assert.deepEqual(got, [1, 2, 3]);
  const client = new TestClient(Greeter, port);
  try {
    assert.match(String((await client.unary('sayHello', { name: 'plain client' })).message), /plain client/);
    const values = (await client.serverStream('countUp', { n: 4 })).map((m) => m.value);
    assert.deepEqual(values, [1, 2, 3, 4]);
  } finally {
    client.close();
  }
});

test('compression: a client that does not accept the algorithm, or a server set to "none", answers identity', async () => {
  const request = frame(HelloRequest.encode({ name: 'id' }).finish());
  const gzipServer = await serve({ compression: 'gzip' });
  const plainServer = await serve({});
  for (const [port, headers] of [
    [gzipServer, { 'grpc-accept-encoding': 'identity,deflate' }],
    [gzipServer, {}],
    [plainServer, ACCEPT_ALL],
  ] as const) {
    const reply = await rawCall(port, '/fixture.Greeter/SayHello', request, headers);
    assert.equal(reply.trailers['grpc-status'], '0');
    assert.equal(reply.headers['grpc-encoding'], 'identity');
    const [[flag, payload]] = messages(reply.body) as [[number, Buffer]];
    assert.equal(flag, 0);
    assert.match(HelloReply.decode(payload).message, /id/);
  }
});

test('compression with maxSendMessageLength: the limit is on the real size, however well it compresses', async () => {
  const port = await serve({ compression: 'gzip', maxSendMessageLength: 1024 });
  const big = await rawCall(port, '/fixture.Greeter/SayHello', frame(HelloRequest.encode({ name: 'y'.repeat(2000) }).finish()), ACCEPT_ALL);
  assert.equal(big.trailers['grpc-status'] ?? big.headers['grpc-status'], String(status.RESOURCE_EXHAUSTED));
  const small = await rawCall(
    port,
    '/fixture.Greeter/SayHello',
    frame(HelloRequest.encode({ name: 'y'.repeat(500) }).finish()),
    ACCEPT_ALL,
  );
  assert.equal(small.trailers['grpc-status'], '0');
});

test('a compressed request that inflates past maxReceiveMessageLength is RESOURCE_EXHAUSTED', async () => {
  const port = await serve({ maxReceiveMessageLength: 1024 });
  const bomb = gzipSync(HelloRequest.encode({ name: 'a'.repeat(100_000) }).finish());
  assert.ok(bomb.length < 1024, 'the compressed request itself is under the limit');
  const reply = await rawCall(port, '/fixture.Greeter/SayHello', frame(bomb, true), { 'grpc-encoding': 'gzip' });
  assert.equal(reply.trailers['grpc-status'] ?? reply.headers['grpc-status'], String(status.RESOURCE_EXHAUSTED));
});

test('maxReceiveMessageLength: a larger request is RESOURCE_EXHAUSTED and the server keeps serving', async () => {
  const port = await serve({ maxReceiveMessageLength: 1024 });
  const client = new TestClient(Greeter, port);
  try {
    const err = await callError(client.unary('sayHello', { name: 'x'.repeat(5000) }));
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
    const ok = await client.unary('sayHello', { name: 'small' });
    assert.match(String(ok.message), /small/);
  } finally {
    client.close();
  }
});

test('maxSendMessageLength: a reply larger than the limit is RESOURCE_EXHAUSTED, not sent', async () => {
  const port = await serve({ maxSendMessageLength: 1024 });
  const client = new TestClient(Greeter, port);
  try {
    const err = await callError(client.unary('sayHello', { name: 'y'.repeat(900) + 'z'.repeat(900) }));
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
  } finally {
    client.close();
  }
});

test('keepalive and connection-age settings reach grpc-js', async () => {
  const port = await serve({ keepaliveTimeMs: 60_000, keepaliveTimeoutMs: 5_000, maxConnectionAgeMs: 30_000 });
  const running = servers.at(-1)!;
  const options = (running.server.grpc as unknown as { options: Record<string, unknown> }).options;
  assert.equal(options['grpc.keepalive_time_ms'], 60_000);
  assert.equal(options['grpc.keepalive_timeout_ms'], 5_000);
  assert.equal(options['grpc.max_connection_age_ms'], 30_000);
  const client = new TestClient(Greeter, port);
  try {
    assert.match(String((await client.unary('sayHello', { name: 'k' })).message), /k/);
  } finally {
    client.close();
  }
});
