// Bad input on the web listener: each gets a clear status and nothing else happens (no call runs,
// no memory or socket is held). The crypto app in process, with small limits so that each case is
// cheap to provoke: a 64 KiB receive limit, 1 s for a request's body and for a first byte.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { GetCoinRequest } from '../generated/crypto_service.ts';
import { frame, frames, h1, h2, h2session, json, trailersOf, webServer, type Reply, type WebServer } from './support/web.ts';

const GET_COIN = '/crypto.CryptoService/GetCoin';
const WATCH = '/crypto.CryptoService/WatchPrices';
const LIMIT = 64 * 1024;
const ORIGIN = 'https://app.example.com';
let web: WebServer;
/** Open event subscriptions (WatchPrices streams) in the server's process. */
const subscribers = () => web.srv.running.events.stats().subscribers;

before(async () => {
  web = await webServer({
    grpc: {
      server: { maxReceiveMessageLength: LIMIT, handshakeTimeoutMs: 1000, maxConcurrentStreams: 200 },
      web: {
        requestTimeoutMs: 1000,
        headersTimeoutMs: 1000,
        maxConnections: 40,
        cors: { allowedOrigins: [ORIGIN], allowedHeaders: ['x-request-id'], maxAgeSeconds: 600 },
      },
    },
  });
});
after(() => web?.stop());

const postJson = (body: string, headers: Record<string, string> = {}) =>
  h1(web.port, 'POST', GET_COIN, { 'content-type': 'application/json', ...headers }, body);
const connectError = (reply: Reply) => json(reply) as { code: string; message: string };

test('JSON that is malformed, of the wrong type, or names an unknown field: 400 invalid_argument saying which', async () => {
  const malformed = await postJson('{"symbol":');
  assert.equal(malformed.status, 400);
  assert.equal(connectError(malformed).code, 'invalid_argument');
  assert.match(connectError(malformed).message, /^Request is not a crypto\.GetCoinRequest in JSON: malformed JSON/);
  const wrongType = await postJson('{"symbol":5}');
  assert.equal(wrongType.status, 400);
  assert.match(connectError(wrongType).message, /crypto\.GetCoinRequest.*symbol/);
  const unknown = await postJson('{"symbol":"BTC","colour":"red"}');
  assert.equal(unknown.status, 400);
  assert.match(connectError(unknown).message, /key "colour" is unknown/);
  // The same in a Connect stream's envelope: the end-stream message carries the error.
  const stream = await h2(
    h2session(web.port),
    { ':path': WATCH, 'content-type': 'application/connect+json' },
    frame(0, '{"symbols":"BTC"}'),
  );
  const end = frames(stream.body).at(-1)!;
  assert.equal(end.flags, 0x02);
  assert.equal((JSON.parse(end.payload.toString()) as { error: { code: string } }).error.code, 'invalid_argument');
});

test('a wrong or missing content-type is 415 naming the ones served', async () => {
  const text = await h1(web.port, 'POST', GET_COIN, { 'content-type': 'text/plain' }, '{"symbol":"BTC"}');
  assert.equal(text.status, 415);
  assert.match(text.body.toString(), /^Unsupported content-type "text\/plain": send one of application\/proto, application\/json/);
  assert.match(String(text.headers['accept-post']), /application\/grpc-web\+proto/);
  const none = await h1(web.port, 'POST', GET_COIN, {}, '{"symbol":"BTC"}');
  assert.equal(none.status, 415);
  assert.match(none.body.toString(), /^Unsupported no content-type/);
  const latin = await h1(web.port, 'POST', GET_COIN, { 'content-type': 'application/json; charset=iso-8859-1' }, '{}');
  assert.equal(latin.status, 415);
  const native = await h2(h2session(web.port), { ':path': GET_COIN, 'content-type': 'application/grpc' }, frame(0, ''));
  assert.equal(native.status, 415, 'native gRPC goes to the gRPC port');
  const unaryAsStream = await h1(web.port, 'POST', GET_COIN, { 'content-type': 'application/connect+json' }, frame(0, '{}'));
  assert.equal(unaryAsStream.status, 415);
  assert.match(unaryAsStream.body.toString(), /is unary: send application\/proto or application\/json/);
});

test('a body over the receive limit: refused before it is read when Content-Length says so, else as it passes the limit', async () => {
  // Content-Length says 10 MB and nothing follows: the answer comes at once, without the body.
  const declared = await new Promise<{ head: string; ms: number }>((resolve, reject) => {
    const t0 = performance.now();
    const socket = net.connect(web.port, '127.0.0.1', () =>
      socket.write(`POST ${GET_COIN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n`),
    );
    let head = '';
    socket.on('data', (d) => (head += d));
    socket.on('close', () => resolve({ head, ms: performance.now() - t0 }));
    socket.on('error', reject);
  });
  assert.match(declared.head, /^HTTP\/1\.1 429 /);
  assert.match(
    declared.head,
    /"code":"resource_exhausted","message":"Request body of 10000000 bytes is over the receive limit of 65536 bytes/,
  );
  assert.match(declared.head, /[Cc]onnection: close/);
  assert.ok(declared.ms < 900, `answered in ${declared.ms.toFixed(0)} ms, before the body timeout`);
  // No Content-Length (chunked): read up to the limit, then refused.
  const big = JSON.stringify({ symbol: 'x'.repeat(LIMIT) });
  const chunked = await new Promise<Reply>((resolve, reject) => {
    const req = h2session(web.port).request({ ':method': 'POST', ':path': GET_COIN, 'content-type': 'application/json' });
    const chunks: Buffer[] = [];
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, headers: {}, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    req.end(big);
  });
  assert.equal(chunked.status, 429);
  assert.equal(connectError(chunked).code, 'resource_exhausted');
  // gRPC-Web: the same status in its trailer frame.
  const grpcWeb = await h1(
    web.port,
    'POST',
    GET_COIN,
    { 'content-type': 'application/grpc-web+proto' },
    frame(0, GetCoinRequest.encode({ symbol: 'x'.repeat(LIMIT) }).finish()),
  );
  assert.equal(trailersOf(frames(grpcWeb.body)[0]!.payload)['grpc-status'], '8');
});

test('truncated frames and bad base64: invalid_argument (gRPC-Web status 3, a Connect end-stream error)', async () => {
  const whole = frame(0, GetCoinRequest.encode({ symbol: 'BTC' }).finish());
  const truncated = await h1(
    web.port,
    'POST',
    GET_COIN,
    { 'content-type': 'application/grpc-web+proto' },
    whole.subarray(0, whole.length - 2),
  );
  const t = trailersOf(frames(truncated.body)[0]!.payload);
  assert.equal(t['grpc-status'], '3');
  assert.match(decodeURIComponent(t['grpc-message']!), /^Truncated frame: its prefix says 5 byte\(s\), 3 arrived/);
  const short = await h1(web.port, 'POST', GET_COIN, { 'content-type': 'application/grpc-web+proto' }, Buffer.from([0, 0, 0]));
  assert.match(decodeURIComponent(trailersOf(frames(short.body)[0]!.payload)['grpc-message']!), /less than the 5-byte prefix/);
  const connect = await h2(
    h2session(web.port),
    { ':path': WATCH, 'content-type': 'application/connect+proto' },
    frame(0, 'abcdef').subarray(0, 7),
  );
  const end = JSON.parse(frames(connect.body).at(-1)!.payload.toString()) as { error: { code: string; message: string } };
  assert.equal(end.error.code, 'invalid_argument');
  assert.match(end.error.message, /Truncated frame/);
  const badFlag = await h1(web.port, 'POST', GET_COIN, { 'content-type': 'application/grpc-web+proto' }, frame(0x80, 'x'));
  assert.match(decodeURIComponent(trailersOf(frames(badFlag.body)[0]!.payload)['grpc-message']!), /Frame flags 0x80 are not valid/);

  const base64 = await h1(web.port, 'POST', GET_COIN, { 'content-type': 'application/grpc-web-text' }, 'AAAA!!!not base64');
  assert.equal(base64.status, 200);
  const decoded = trailersOf(frames(Buffer.from(base64.body.toString(), 'base64'))[0]!.payload);
  assert.equal(decoded['grpc-status'], '3');
  assert.match(decodeURIComponent(decoded['grpc-message']!), /Bad base64/);
});

test('a gzip bomb: inflated only up to the receive limit, then resource_exhausted', async () => {
  const bomb = gzipSync(Buffer.alloc(40 * 1024 * 1024, ' ')); // 40 MiB of spaces, ~40 KiB compressed
  assert.ok(bomb.length < LIMIT);
  const heapBefore = process.memoryUsage().arrayBuffers;
  const reply = await postJson('', { 'content-encoding': 'gzip' }).catch(() => null);
  void reply;
  const bombed = await h1(web.port, 'POST', GET_COIN, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, bomb);
  assert.equal(bombed.status, 429);
  assert.match(connectError(bombed).message, /^Decompressed request message is over the receive limit of 65536 bytes/);
  assert.ok(process.memoryUsage().arrayBuffers - heapBefore < 16 * 1024 * 1024, 'the bomb was not inflated whole');
  const notGzip = await postJson('{"symbol":"BTC"}', { 'content-encoding': 'gzip' });
  assert.equal(notGzip.status, 400);
  assert.match(connectError(notGzip).message, /not valid gzip data/);
  const brotli = await postJson('{"symbol":"BTC"}', { 'content-encoding': 'br' });
  assert.equal(brotli.status, 501);
  assert.equal(connectError(brotli).code, 'unimplemented');
});

test('a GET with a malformed message parameter: 400 invalid_argument', async () => {
  const get = (query: string) => h1(web.port, 'GET', `${GET_COIN}?${query}`);
  const malformed = await get(`connect=v1&encoding=json&message=${encodeURIComponent('{"symbol":')}`);
  assert.equal(malformed.status, 400);
  assert.match(connectError(malformed).message, /"message" query parameter: .*malformed JSON/);
  const badBase64 = await get('connect=v1&encoding=proto&base64=1&message=%21%21%21');
  assert.equal(badBase64.status, 400);
  assert.match(connectError(badBase64).message, /Bad base64 in the "message" query parameter/);
  const noMessage = await get('connect=v1&encoding=json');
  assert.equal(noMessage.status, 400);
  assert.match(connectError(noMessage).message, /Missing "message"/);
  const noEncoding = await get('connect=v1&message=%7B%7D');
  assert.match(connectError(noEncoding).message, /"encoding" query parameter/);
  const garbageProto = await get(`connect=v1&encoding=proto&base64=1&message=${Buffer.from([0xff, 0xff, 0xff]).toString('base64url')}`);
  assert.equal(garbageProto.status, 400);
  assert.match(connectError(garbageProto).message, /could not be decoded/);
});

test('CORS: a preflight or a call from an origin not allowed is refused (403, no CORS headers) and runs nothing; an allowed one gets its headers', async () => {
  const evil = await h1(web.port, 'OPTIONS', GET_COIN, {
    origin: 'https://evil.example',
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type',
  });
  assert.equal(evil.status, 403);
  assert.equal(evil.headers['access-control-allow-origin'], undefined);
  const good = await h1(web.port, 'OPTIONS', GET_COIN, {
    origin: ORIGIN,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type,authorization,x-request-id',
  });
  assert.equal(good.status, 204);
  assert.equal(good.headers['access-control-allow-origin'], ORIGIN);
  assert.equal(good.headers['access-control-max-age'], '600');
  for (const h of ['content-type', 'authorization', 'x-api-key', 'connect-protocol-version', 'x-grpc-web', 'x-request-id'])
    assert.match(String(good.headers['access-control-allow-headers']), new RegExp(`\\b${h}\\b`));

  // A deposit from a page of another origin, with a valid token: refused, and the balance is unchanged.
  const token = await web.tokenOf('alice');
  const balance = async () =>
    (
      json(
        await h1(
          web.port,
          'POST',
          '/crypto.CryptoService/GetWallet',
          { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          '{"symbol":"ETH"}',
        ),
      ).wallet as { balance: string }
    ).balance;
  const before = await balance();
  const deposit = await h1(
    web.port,
    'POST',
    '/crypto.CryptoService/Deposit',
    { 'content-type': 'application/json', authorization: `Bearer ${token}`, origin: 'https://evil.example' },
    '{"symbol":"ETH","amount":"1"}',
  );
  assert.equal(deposit.status, 403);
  assert.equal(await balance(), before);
  const allowed = await postJson('{"symbol":"BTC"}', { origin: ORIGIN });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers['access-control-allow-origin'], ORIGIN);
  assert.match(String(allowed.headers['access-control-expose-headers']), /grpc-status/);
});

test('a client that sends its headers and then nothing is timed out; so is one that sends nothing at all', async () => {
  const waitClose = (write: string) =>
    new Promise<{ data: string; ms: number }>((resolve) => {
      const t0 = performance.now();
      const socket = net.connect(web.port, '127.0.0.1', () => write && socket.write(write));
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.on('error', () => {});
      socket.on('close', () => resolve({ data, ms: performance.now() - t0 }));
    });
  const [headersOnly, silent] = await Promise.all([
    waitClose(`POST ${GET_COIN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`),
    waitClose(''),
  ]);
  assert.match(headersOnly.data, /^HTTP\/1\.1 (408|504) /, headersOnly.data);
  assert.ok(headersOnly.ms < 4000, `closed after ${headersOnly.ms.toFixed(0)} ms`);
  assert.equal(silent.data, '');
  assert.ok(silent.ms < 4000, `a silent connection closed after ${silent.ms.toFixed(0)} ms`);
  // HTTP/2: a stream whose body never ends is answered deadline_exceeded and reset.
  const session = h2session(web.port);
  const req = session.request({ ':method': 'POST', ':path': GET_COIN, 'content-type': 'application/json' });
  req.write('{"symbol"');
  const status = await new Promise<number>((resolve) => {
    req.on('response', (h) => resolve(Number(h[':status'])));
    req.on('error', () => resolve(-1));
    req.on('close', () => resolve(-1));
  });
  assert.equal(status, 504);
});

test('connections past grpc.web.maxConnections are closed at once', async () => {
  const sockets = await Promise.all(
    Array.from(
      { length: 40 },
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect(web.port, '127.0.0.1', () => resolve(s));
          s.on('error', () => {});
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 100));
  const extra = await new Promise<string>((resolve) => {
    const s = net.connect(web.port, '127.0.0.1');
    s.on('error', () => resolve('error'));
    s.on('close', () => resolve('closed'));
  });
  assert.equal(extra, 'closed');
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 100));
});

test('1,000 server streams opened and abandoned: every subscription ends, no call stays in flight, memory returns', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const subscribersBefore = subscribers();
  const sessions = Array.from({ length: 5 }, () => http2.connect(`http://127.0.0.1:${web.port}`).on('error', () => {}));
  const opened: Promise<void>[] = [];
  for (let i = 0; i < 1000; i++) {
    const session = sessions[i % sessions.length]!;
    const json = i % 2 === 0;
    const req = session.request({
      ':method': 'POST',
      ':path': WATCH,
      'content-type': json ? 'application/connect+json' : 'application/grpc-web+proto',
    });
    req.on('error', () => {});
    req.end(json ? frame(0, '{"symbols":["BTC"]}') : frame(0, Buffer.from([10, 3, 66, 84, 67])));
    opened.push(
      new Promise((resolve, reject) => {
        req.once('data', () => resolve());
        req.once('close', () =>
          reject(new Error(`stream ${i} closed before its first message: rst ${req.rstCode}, session destroyed ${session.destroyed}`)),
        );
      }),
    );
  }
  await Promise.all(opened);
  assert.equal(subscribers() - subscribersBefore, 1000, 'every stream subscribed');
  for (const session of sessions) session.destroy();
  const until = Date.now() + 10_000;
  while (subscribers() > subscribersBefore && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.equal(subscribers(), subscribersBefore, 'every subscription ended');
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const grown = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
  // The server still answers.
  assert.equal((await postJson('{"symbol":"BTC"}')).status, 200);
});
