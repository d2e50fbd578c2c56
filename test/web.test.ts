// The web listener (grpc.web) against the crypto app, in process on port 0: Connect (unary POST
// and GET, JSON and binary, server streaming) and gRPC-Web (binary and text, unary and server
// streaming) over HTTP/1.1 and h2c, with auth, Connect errors, deadlines, gzip, metrics and drain.
// Plain node:http and node:http2 clients: every status, header and frame is read as sent.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { CoinResponse, CryptoServiceService, GetCoinRequest, PriceUpdate, WatchPricesRequest } from '../generated/crypto_service.ts';
import { createApiKeyFor } from '../src/auth/manage.ts';
import type { CallContext } from '../src/call/context.ts';
import { makeCerts } from './support/certs.ts';
import { frame, frames, h1, h2, h2session, json, trailersOf, webServer, type WebServer } from './support/web.ts';

const GET_COIN = '/crypto.CryptoService/GetCoin';
const WATCH = '/crypto.CryptoService/WatchPrices';
let web: WebServer;
let aliceToken: string;

before(async () => {
  web = await webServer({
    grpc: { http: { enabled: true, host: '127.0.0.1', port: 0, publicMetrics: true }, requestLog: { enabled: true, flushIntervalMs: 50 } },
  });
  aliceToken = await web.tokenOf('alice');
});
after(() => web?.stop());

test("curl's call: JSON in, the coin as canonical proto3 JSON out (lowerCamel names, RFC 3339 timestamps)", async () => {
  const reply = await h1(web.port, 'POST', GET_COIN, { 'content-type': 'application/json' }, '{"symbol":"BTC"}');
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'application/json');
  const body = json(reply) as { success: boolean; coin: Record<string, unknown> };
  assert.equal(body.success, true);
  assert.equal(body.coin.symbol, 'BTC');
  assert.equal(body.coin.name, 'Bitcoin');
  assert.equal(typeof body.coin.priceUsd, 'string');
  assert.match(String(body.coin.createdAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.ok(!('price_usd' in body.coin));
});

test('Connect binary over h2c, and GET (JSON, and base64 binary) for a method without side effects; GET of one with side effects is 405', async () => {
  const session = h2session(web.port);
  const bin = await h2(
    session,
    { ':path': GET_COIN, 'content-type': 'application/proto', 'connect-protocol-version': '1' },
    GetCoinRequest.encode({ symbol: 'ETH' }).finish(),
  );
  assert.equal(bin.status, 200);
  assert.equal(bin.headers['content-type'], 'application/proto');
  assert.equal(CoinResponse.decode(bin.body).coin?.symbol, 'ETH');

  const query = `connect=v1&encoding=json&message=${encodeURIComponent('{"symbol":"SOL"}')}`;
  const get = await h1(web.port, 'GET', `${GET_COIN}?${query}`);
  assert.equal(get.status, 200);
  assert.equal((json(get).coin as { symbol: string }).symbol, 'SOL');

  const b64 = Buffer.from(GetCoinRequest.encode({ symbol: 'BTC' }).finish()).toString('base64url');
  const getBin = await h2(session, { ':method': 'GET', ':path': `${GET_COIN}?connect=v1&encoding=proto&base64=1&message=${b64}` });
  assert.equal(getBin.status, 200);
  assert.equal(CoinResponse.decode(getBin.body).coin?.symbol, 'BTC');

  const transfer = await h1(web.port, 'GET', `/crypto.CryptoService/Transfer?encoding=json&message=%7B%7D`, {
    authorization: `Bearer ${aliceToken}`,
  });
  assert.equal(transfer.status, 405);
  assert.equal(transfer.headers.allow, 'POST');
  assert.equal(json(transfer).code, 'unimplemented');
});

test('errors are Connect error JSON with the canonical code and HTTP status: not_found, unauthenticated, invalid_argument, permission_denied, unimplemented', async () => {
  const call = (path: string, body: string, headers: Record<string, string> = {}) =>
    h1(web.port, 'POST', path, { 'content-type': 'application/json', ...headers }, body);
  const notFound = await call(GET_COIN, '{"symbol":"NOPE"}');
  assert.equal(notFound.status, 404);
  assert.deepEqual(json(notFound), { code: 'not_found', message: 'Coin NOPE not found' });
  const unauthenticated = await call('/crypto.CryptoService/GetWallet', '{"symbol":"BTC"}');
  assert.equal(unauthenticated.status, 401);
  assert.equal(json(unauthenticated).code, 'unauthenticated');
  const badToken = await call('/crypto.CryptoService/GetWallet', '{"symbol":"BTC"}', { authorization: 'Bearer not-a-jwt' });
  assert.equal(badToken.status, 401);
  const toSelf = await call('/crypto.CryptoService/Transfer', '{"toUsername":"alice","symbol":"BTC","amount":"1"}', {
    authorization: `Bearer ${aliceToken}`,
  });
  assert.equal(toSelf.status, 400);
  assert.deepEqual(json(toSelf), { code: 'invalid_argument', message: 'Cannot transfer to yourself' });
  const denied = await call('/crypto.CryptoService/UpdateCoinPrice', '{"symbol":"BTC","priceUsd":"1"}', {
    authorization: `Bearer ${aliceToken}`,
  });
  assert.equal(denied.status, 403);
  assert.equal(json(denied).code, 'permission_denied');
  const missing = await call('/crypto.CryptoService/NoSuchMethod', '{}');
  assert.equal(missing.status, 501);
  assert.equal(json(missing).code, 'unimplemented');
});

test('auth through the same interceptors: a Bearer token or the API key header', async () => {
  const withToken = await h1(
    web.port,
    'POST',
    '/crypto.CryptoService/GetWallet',
    { 'content-type': 'application/json', authorization: `Bearer ${aliceToken}` },
    '{"symbol":"BTC"}',
  );
  assert.equal(withToken.status, 200, withToken.body.toString());
  assert.equal((json(withToken).wallet as { username: string }).username, 'alice');
  const { key } = await createApiKeyFor(await web.srv.db(), { username: 'bob', name: 'web test' });
  const withKey = await h1(
    web.port,
    'POST',
    '/crypto.CryptoService/GetWallet',
    { 'content-type': 'application/json', 'x-api-key': key },
    '{"symbol":"BTC"}',
  );
  assert.equal(withKey.status, 200, withKey.body.toString());
  assert.equal((json(withKey).wallet as { username: string }).username, 'bob');
});

test('gRPC-Web: unary in binary over HTTP/1.1 and in base64 text; status in the trailer frame; an error is grpc-status in it', async () => {
  const body = frame(0, GetCoinRequest.encode({ symbol: 'BTC' }).finish());
  const bin = await h1(web.port, 'POST', GET_COIN, { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' }, body);
  assert.equal(bin.status, 200);
  assert.equal(bin.headers['content-type'], 'application/grpc-web+proto');
  const [message, trailer] = frames(bin.body);
  assert.equal(message!.flags, 0);
  assert.equal(CoinResponse.decode(message!.payload).coin?.symbol, 'BTC');
  assert.equal(trailer!.flags, 0x80);
  assert.deepEqual(trailersOf(trailer!.payload), { 'grpc-status': '0' });

  const text = await h1(web.port, 'POST', GET_COIN, { 'content-type': 'application/grpc-web-text' }, body.toString('base64'));
  assert.equal(text.headers['content-type'], 'application/grpc-web-text+proto');
  const decoded = frames(Buffer.from(text.body.toString(), 'base64'));
  assert.equal(CoinResponse.decode(decoded[0]!.payload).coin?.symbol, 'BTC');

  const missing = await h1(
    web.port,
    'POST',
    GET_COIN,
    { 'content-type': 'application/grpc-web+proto' },
    frame(0, GetCoinRequest.encode({ symbol: 'NOPE' }).finish()),
  );
  assert.equal(missing.status, 200);
  const only = frames(missing.body);
  assert.equal(only.length, 1);
  assert.deepEqual(trailersOf(only[0]!.payload), { 'grpc-status': '5', 'grpc-message': 'Coin NOPE not found' });
});

test('server streaming: WatchPrices over Connect (JSON, h2c) and gRPC-Web sees a price change made by another client; the deadline ends it', async () => {
  const session = h2session(web.port);
  const admin = web.srv.client(CryptoServiceService, { user: await web.srv.user('admin') });
  // Connect streaming, a deadline of 3 s: the current BTC price, the change, then deadline_exceeded in the end-stream message.
  const connect = session.request({
    ':method': 'POST',
    ':path': WATCH,
    'content-type': 'application/connect+json',
    'connect-timeout-ms': '3000',
  });
  connect.end(frame(0, '{"symbols":["BTC"]}'));
  const grpcWeb = session.request({
    ':method': 'POST',
    ':path': WATCH,
    'content-type': 'application/grpc-web+proto',
    'grpc-timeout': '3S',
  });
  grpcWeb.end(frame(0, WatchPricesRequest.encode({ symbols: ['BTC'] }).finish()));
  const collect = (req: typeof connect) => {
    const chunks: Buffer[] = [];
    let first: () => void;
    const gotFirst = new Promise<void>((r) => (first = r));
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      first();
    });
    return { gotFirst, done: new Promise<Buffer>((r) => req.on('end', () => r(Buffer.concat(chunks)))) };
  };
  const a = collect(connect);
  const b = collect(grpcWeb);
  await Promise.all([a.gotFirst, b.gotFirst]);
  const updated = await admin.updateCoinPrice({ symbol: 'BTC', priceUsd: '70123.5', change24hPercent: '1.5' });
  assert.equal(updated.coin?.priceUsd, '70123.5');

  const connectFrames = frames(await a.done);
  const messages = connectFrames
    .filter((f) => f.flags === 0)
    .map((f) => JSON.parse(f.payload.toString()) as { symbol: string; priceUsd: string });
  assert.ok(
    messages.some((m) => m.symbol === 'BTC' && m.priceUsd === '70123.5'),
    JSON.stringify(messages),
  );
  const end = connectFrames.at(-1)!;
  assert.equal(end.flags, 0x02);
  assert.equal((JSON.parse(end.payload.toString()) as { error: { code: string } }).error.code, 'deadline_exceeded');

  const webFrames = frames(await b.done);
  const updates = webFrames.filter((f) => f.flags === 0).map((f) => PriceUpdate.decode(f.payload));
  assert.ok(updates.some((u) => u.priceUsd === '70123.5'));
  assert.equal(trailersOf(webFrames.at(-1)!.payload)['grpc-status'], '4');
});

test('gzip both ways: a gzip request body is read, a large response is gzip for a client that accepts it', async () => {
  const zipped = await h1(
    web.port,
    'POST',
    GET_COIN,
    { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    gzipSync('{"symbol":"ETH"}'),
  );
  assert.equal(zipped.status, 200, zipped.body.toString());
  assert.equal((json(zipped).coin as { symbol: string }).symbol, 'ETH');
  const list = await h1(
    web.port,
    'POST',
    '/crypto.CryptoService/ListCoins',
    { 'content-type': 'application/json', 'accept-encoding': 'gzip, br' },
    '{"pageSize":50}',
  );
  assert.equal(list.status, 200);
  assert.equal(list.headers['content-encoding'], 'gzip');
  const coins = (JSON.parse(gunzipSync(list.body).toString()) as { coins: unknown[] }).coins;
  assert.ok(coins.length >= 5, `${coins.length} coins`);
  const plain = await h1(web.port, 'POST', '/crypto.CryptoService/ListCoins', { 'content-type': 'application/json' }, '{"pageSize":50}');
  assert.equal(plain.headers['content-encoding'], undefined, 'not for a client that does not accept gzip');
  // Connect streaming: the request envelope compressed (flag 1) with connect-content-encoding.
  const session = h2session(web.port);
  const stream = await h2(
    session,
    { ':path': WATCH, 'content-type': 'application/connect+json', 'connect-content-encoding': 'gzip', 'connect-timeout-ms': '300' },
    frame(1, gzipSync('{"symbols":["SOL"]}')),
  );
  const got = frames(stream.body);
  assert.equal((JSON.parse(got[0]!.payload.toString()) as { symbol: string }).symbol, 'SOL');
});

test('metrics carry the protocol: connect and grpc-web series beside grpc', async () => {
  const metrics = await fetch(`http://127.0.0.1:${web.srv.running.httpPort}/metrics`).then((r) => r.text());
  assert.match(
    metrics,
    /grpc_server_handled_total\{grpc_service="crypto\.CryptoService",grpc_method="GetCoin",grpc_type="unary",protocol="connect",grpc_code="OK"\} [1-9]/,
  );
  assert.match(
    metrics,
    /grpc_server_handled_total\{grpc_service="crypto\.CryptoService",grpc_method="GetCoin",grpc_type="unary",protocol="grpc-web",grpc_code="NOT_FOUND"\} 1/,
  );
  assert.match(
    metrics,
    /grpc_server_handled_total\{grpc_service="crypto\.CryptoService",grpc_method="UpdateCoinPrice",grpc_type="unary",protocol="grpc",grpc_code="OK"\} 1/,
  );
});

test('the request log records each web call with its protocol', async () => {
  const session = h2session(web.port);
  await h2(
    session,
    { ':path': GET_COIN, 'content-type': 'application/grpc-web+proto' },
    frame(0, GetCoinRequest.encode({ symbol: 'SOL' }).finish()),
  );
  await h1(web.port, 'POST', GET_COIN, { 'content-type': 'application/json' }, '{"symbol":"SOL"}');
  await web.srv.client(CryptoServiceService).getCoin({ symbol: 'SOL' });
  const db = await web.srv.db();
  const until = Date.now() + 5000;
  let protocols = new Set<string>();
  while (Date.now() < until && protocols.size < 3) {
    const rows = await db.requestLog.findMany({ where: { method: 'GetCoin' }, select: { protocol: true } });
    protocols = new Set(rows.map((r) => r.protocol));
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual([...protocols].sort(), ['connect', 'grpc', 'grpc-web']);
});

test("drain: the server's stop ends an open web stream with unavailable, then the port is closed", async () => {
  const own = await webServer();
  const session = h2session(own.port);
  const req = session.request({ ':method': 'POST', ':path': WATCH, 'content-type': 'application/connect+json' });
  req.end(frame(0, '{}'));
  const chunks: Buffer[] = [];
  const first = new Promise<void>((r) => req.once('data', () => r()));
  req.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((r) => req.on('end', () => r()));
  await first;
  const t0 = performance.now();
  await own.stop();
  await ended;
  assert.ok(performance.now() - t0 < 3000, 'the stream did not hold up the stop');
  const end = frames(Buffer.concat(chunks)).at(-1)!;
  assert.equal(end.flags, 0x02);
  assert.equal((JSON.parse(end.payload.toString()) as { error: { code: string } }).error.code, 'unavailable');
  await assert.rejects(h1(own.port, 'POST', GET_COIN, { 'content-type': 'application/json' }, '{}'), /ECONNREFUSED/);
});

test('drain: a unary call in flight when the server stops is answered; one that arrives during the drain is refused', async () => {
  // A project interceptor holds calls that ask for it (x-slow) for 600 ms.
  const slow = {
    name: 'slow',
    async intercept(ctx: CallContext, next: (ctx: CallContext) => Promise<void>) {
      if (ctx.metadata.get('x-slow').length > 0) await new Promise((r) => setTimeout(r, 600));
      return next(ctx);
    },
  };
  const own = await webServer({}, { project: [slow] });
  const session = h2session(own.port);
  const inFlight = h2(session, { ':path': GET_COIN, 'content-type': 'application/json', 'x-slow': '1' }, '{"symbol":"BTC"}');
  await new Promise((r) => setTimeout(r, 150));
  const stopped = own.stop();
  await new Promise((r) => setTimeout(r, 50));
  const late = await h2(session, { ':path': GET_COIN, 'content-type': 'application/json' }, '{"symbol":"BTC"}').then(
    (r) => (r.status === 503 ? 'refused: unavailable' : `HTTP ${r.status}`),
    (err: Error) => `refused: ${err.message}`,
  );
  assert.match(late, /^refused: /);
  const answered = await inFlight;
  assert.equal(answered.status, 200);
  assert.equal((json(answered).coin as { symbol: string }).symbol, 'BTC');
  await stopped;
});

test("a client that goes away cancels its call: the method's signal aborts (HTTP/1.1 and HTTP/2)", async () => {
  const aborted: string[] = [];
  let started: () => void = () => {};
  // A project interceptor that waits, for calls that ask it to (x-hang), until the call is cancelled.
  const hang = {
    name: 'hang',
    async intercept(ctx: CallContext, next: (ctx: CallContext) => Promise<void>) {
      const tag = ctx.metadata.get('x-hang')[0];
      if (tag !== undefined) {
        started();
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted.push(`${String(tag)} ${ctx.protocol} cancelled=${ctx.cancelled}`);
      }
      return next(ctx);
    },
  };
  const own = await webServer({}, { project: [hang] });
  try {
    const began = () => new Promise<void>((r) => (started = r));
    let running = began();
    const socket = net.connect(own.port, '127.0.0.1', () =>
      socket.write(`POST ${GET_COIN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-hang: h1\r\nContent-Length: 2\r\n\r\n{}`),
    );
    socket.on('error', () => {});
    await running;
    socket.destroy();
    running = began();
    const session = http2.connect(`http://127.0.0.1:${own.port}`);
    session.on('error', () => {});
    const req = session.request({ ':method': 'POST', ':path': GET_COIN, 'content-type': 'application/grpc-web+proto', 'x-hang': 'h2' });
    req.on('error', () => {});
    req.end(frame(0, GetCoinRequest.encode({ symbol: 'BTC' }).finish()));
    await running;
    req.close(http2.constants.NGHTTP2_CANCEL);
    const until = Date.now() + 3000;
    while (aborted.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    session.destroy();
    assert.deepEqual(aborted.sort(), ['h1 connect cancelled=true', 'h2 grpc-web cancelled=true']);
  } finally {
    await own.stop();
  }
});

test('with grpc.server.tls: the web port speaks HTTPS, HTTP/2 by ALPN and HTTP/1.1, with the same certificate', async () => {
  const certs = makeCerts();
  const own = await webServer({ grpc: { server: { tls: { cert: certs.serverCert, key: certs.serverKey } } } });
  try {
    const ca = certs.read(certs.caCert);
    const session = http2.connect(`https://127.0.0.1:${own.port}`, { ca });
    session.on('error', () => {});
    const viaH2 = await h2(session, { ':path': GET_COIN, 'content-type': 'application/json' }, '{"symbol":"BTC"}');
    session.close();
    assert.equal(viaH2.status, 200);
    assert.equal((json(viaH2).coin as { symbol: string }).symbol, 'BTC');
    const viaH1 = await new Promise<{ status: number; body: string; protocol: string }>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: own.port,
          method: 'POST',
          path: GET_COIN,
          ca,
          headers: { 'content-type': 'application/json' },
          agent: false,
        },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body, protocol: `HTTP/${res.httpVersion}` }));
        },
      );
      req.on('error', reject);
      req.end('{"symbol":"ETH"}');
    });
    assert.deepEqual([viaH1.status, viaH1.protocol], [200, 'HTTP/1.1']);
    assert.equal((JSON.parse(viaH1.body) as { coin: { symbol: string } }).coin.symbol, 'ETH');
    await assert.rejects(
      h1(own.port, 'POST', GET_COIN, { 'content-type': 'application/json' }, '{}'),
      'plaintext is not served on a TLS port',
    );
  } finally {
    await own.stop();
  }
});
