// Idle connections cannot starve the server (issue 21 item 4). On the gRPC port: a connection
// that sends nothing, or half a preface, or finishes TLS and then nothing, is closed after
// grpc.server.handshakeTimeoutMs; one that sends the HTTP/2 preface and SETTINGS and goes quiet
// gets GOAWAY after maxConnectionIdleMs and is closed even if it never closes its end; past
// maxConnections new connections are closed at once, one warning says so (then one per 10 s with
// the count), a client already connected keeps working and new clients are served once the idle
// ones go; clients read SETTINGS_MAX_CONCURRENT_STREAMS = maxConcurrentStreams (100 by default).
// On the HTTP side port: silent and slow-header connections are closed after headersTimeoutMs,
// and past grpc.http.maxConnections new ones are closed at once with one warning.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import http2 from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { resolveConfig } from '../src/config/resolve.ts';
import { configureLogging } from '../src/log/logger.ts';
import { TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, makeProject, type CfgProcess, type Project } from './fixtures/project.ts';
import { makeCerts, type Certs } from './support/certs.ts';
import { greeterServers } from './support/greeter-servers.ts';
import { frameTypes, GOAWAY, PREFACE_AND_SETTINGS, rawConnect, tlsConnect } from './support/raw-connections.ts';

configureLogging({ level: 'silent' });
/** Far past every configured timeout here: a connection still open then is never closed. */
const WITHIN_MS = 15_000;
const greeter = greeterServers();
const { serve, servers } = greeter;
let Greeter: AnyDefinition;

before(async () => {
  Greeter = (await importFrom(await greeter.project(), 'generated/greeter.ts')).GreeterService as AnyDefinition;
});

/** The SETTINGS a node:http2 client receives from the server. */
function remoteSettings(port: number): Promise<http2.Settings> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once('error', reject);
    session.once('remoteSettings', (settings) => {
      session.close();
      resolve(settings);
    });
  });
}

async function sayHello(port: number, name: string): Promise<string> {
  const client = new TestClient(Greeter, port);
  try {
    return String((await client.unary('sayHello', { name })).message);
  } finally {
    client.close();
  }
}

describe('gRPC port, in process', () => {
  test('a connection that sends nothing, or half a preface, is closed after handshakeTimeoutMs (no GOAWAY: cut off)', async () => {
    const port = await serve({ handshakeTimeoutMs: 500, maxConnectionIdleMs: 60_000 });
    const silent = await rawConnect(port);
    const half = await rawConnect(port);
    half.socket.write(PREFACE_AND_SETTINGS.subarray(0, 16));
    const [silentMs, halfMs] = await Promise.all([silent.closed(WITHIN_MS), half.closed(WITHIN_MS)]);
    console.log(`handshakeTimeoutMs 500: silent connection closed after ${silentMs} ms, half a preface after ${halfMs} ms`);
    for (const conn of [silent, half])
      assert.ok(!frameTypes(conn.received()).includes(GOAWAY), 'closed by the handshake deadline, not by the idle timeout');
    assert.match(await sayHello(port, 'after'), /after/);
  });

  test('preface and SETTINGS, then quiet: GOAWAY after maxConnectionIdleMs, and closed although the peer never closes its end', async () => {
    const port = await serve({ handshakeTimeoutMs: 500, maxConnectionIdleMs: 1500 });
    const quiet = await rawConnect(port, { ignoreClose: true });
    quiet.socket.write(PREFACE_AND_SETTINGS);
    const ms = await quiet.closed(WITHIN_MS);
    console.log(`maxConnectionIdleMs 1500 (peer ignoring the close, handshakeTimeoutMs 500 to let go): closed after ${ms} ms`);
    assert.ok(
      frameTypes(quiet.received()).includes(GOAWAY),
      `the server said GOAWAY first (frames ${frameTypes(quiet.received()).join(',')})`,
    );
    assert.equal(servers.at(-1)!.server.connections, 0);
  });

  test('a connection with a call open far past maxConnectionIdleMs is not idle; once its calls end, GOAWAY after maxConnectionIdleMs', async () => {
    const port = await serve({ handshakeTimeoutMs: 500, maxConnectionIdleMs: 600 });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    let goawayAt = 0;
    session.on('goaway', () => (goawayAt = performance.now()));
    const grpcHeaders = { ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' };
    // Two calls in turn on the connection, then a bidi call held open for 3 x maxConnectionIdleMs.
    for (const path of ['/fixture.Greeter/SayHello', '/fixture.Greeter/SayHello']) {
      const unary = session.request({ ...grpcHeaders, ':path': path });
      unary.end(Buffer.from([0, 0, 0, 0, 4, 0x0a, 0x02, 0x6a, 0x6f]));
      unary.resume();
      await new Promise((resolve) => unary.once('close', resolve));
    }
    const chat = session.request({ ...grpcHeaders, ':path': '/fixture.Greeter/Chat' });
    chat.on('error', () => {});
    chat.resume();
    await sleep(1800);
    assert.equal(goawayAt, 0, 'no GOAWAY while a call is open');
    // cfg counts the calls (src/transports/grpc/idle-sessions.ts); grpc-js's own per-call tracking is off.
    const grpcJs = servers.at(-1)!.server.grpc as unknown as { sessionIdleTimeouts: Map<unknown, unknown> };
    assert.equal(grpcJs.sessionIdleTimeouts.size, 0, "grpc-js tracks no connection's idleness itself");
    assert.ok(!session.closed && !session.destroyed);
    const endedAt = performance.now();
    chat.end();
    await new Promise((resolve) => chat.once('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no GOAWAY after the last call ended')), WITHIN_MS);
      session.once('goaway', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const ms = Math.round(goawayAt - endedAt);
    console.log(`maxConnectionIdleMs 600: GOAWAY ${ms} ms after the connection's last call ended`);
    assert.ok(ms >= 550, `not before maxConnectionIdleMs: ${ms} ms`);
    session.destroy();
  });

  test('a node:http2 client reads SETTINGS_MAX_CONCURRENT_STREAMS: the configured value, 100 by default', async () => {
    assert.equal((await remoteSettings(await serve({ maxConcurrentStreams: 7 }))).maxConcurrentStreams, 7);
    assert.equal((await remoteSettings(await serve({}))).maxConcurrentStreams, 100);
    const defaults = resolveConfig({}, { root: '/tmp/p', env: {} }).grpc.server;
    assert.deepEqual(
      [defaults.handshakeTimeoutMs, defaults.maxConnectionIdleMs, defaults.maxConnections, defaults.maxConcurrentStreams],
      [10_000, 300_000, 5000, 100],
    );
  });

  describe('with TLS', () => {
    let certs: Certs;
    before(() => (certs = makeCerts()));
    after(() => rmSync(certs.dir, { recursive: true, force: true }));

    test('no TLS handshake, or a finished handshake and then nothing: both closed after handshakeTimeoutMs', async () => {
      const port = await serve({
        handshakeTimeoutMs: 500,
        maxConnectionIdleMs: 60_000,
        tls: { cert: certs.serverCert, key: certs.serverKey },
      });
      const tcp = await rawConnect(port);
      const secured = await tlsConnect(port, certs.read(certs.caCert));
      assert.equal((secured.socket as import('node:tls').TLSSocket).alpnProtocol, 'h2');
      const [tcpMs, tlsMs] = await Promise.all([tcp.closed(WITHIN_MS), secured.closed(WITHIN_MS)]);
      console.log(`TLS, handshakeTimeoutMs 500: no handshake closed after ${tcpMs} ms, handshake then silence after ${tlsMs} ms`);
      assert.ok(!frameTypes(secured.received()).includes(GOAWAY), 'cut off by the handshake deadline');
    });
  });
});

describe('cfg rungrpc with small limits', () => {
  let proc: CfgProcess;
  let port: number;
  let httpPort: number;
  let spawned: Project;
  const limitLines = (listener: string) => proc.jsonLogs().filter((l) => String(l.msg).startsWith(`${listener}: connection limit reached`));

  before(async () => {
    const grpc = {
      server: { maxConnections: 12, maxConnectionIdleMs: 60_000 },
      http: { enabled: true, port: 0, headersTimeoutMs: 3000, maxConnections: 4 },
    };
    spawned = await makeProject({ apps: ['greeter'], config: { grpc, logging: { logCalls: false } } });
    proc = spawned.spawn(['rungrpc']);
    port = await proc.port();
    httpPort = Number((await proc.waitFor('stdout', /HTTP side port http:\/\/[^/]+:(\d+)\//))[1]);
  });
  after(async () => {
    await proc?.stop();
    await spawned?.remove();
  });

  test('past maxConnections new connections are closed at once and one warning says so; the connected client keeps working; new clients are served once idle ones go', async () => {
    const client = new TestClient(Greeter, port);
    const idle: http2.ClientHttp2Session[] = [];
    try {
      assert.match(String((await client.unary('sayHello', { name: 'first' })).message), /first/);
      // The client's connection and 11 idle ones that sent their preface: 12, the cap.
      for (let i = 0; i < 11; i++) {
        const s = http2.connect(`http://127.0.0.1:${port}`);
        s.on('error', () => {});
        idle.push(s);
        await new Promise((resolve) => s.once('remoteSettings', resolve));
      }
      const refused = await Promise.all(Array.from({ length: 5 }, () => rawConnect(port)));
      for (const conn of refused) {
        await conn.closed(WITHIN_MS);
        assert.equal(conn.received().length, 0, 'refused before any HTTP/2 byte');
      }
      assert.match(String((await client.unary('sayHello', { name: 'still served' })).message), /still served/);
      const fresh = new TestClient(Greeter, port, { 'grpc.use_local_subchannel_pool': 1 });
      const err = await new Promise<Error | undefined>((resolve) => fresh.raw.waitForReady(Date.now() + 1500, resolve));
      fresh.close();
      assert.ok(err, 'a new client cannot connect while the cap is reached');
      await sleep(200);
      const lines = limitLines('gRPC port');
      assert.equal(lines.length, 1, `one warning, not one per refused socket: ${JSON.stringify(lines)}`);
      assert.match(String(lines[0]!.msg), /1 new connection\(s\) refused \(12 open; grpc\.server\.maxConnections is 12 per process\)/);

      for (const s of idle) s.destroy();
      idle.length = 0;
      assert.match(await sayHello(port, 'new client'), /new client/);
      // The rest of the refusals are counted into one more line at the end of the 10 s interval.
      await proc.waitFor('stderr', /gRPC port: connection limit reached, \d+ new connection\(s\) refused in the last 10 s/, 1, WITHIN_MS);
      const second = limitLines('gRPC port')[1]!;
      assert.ok(Number(second.refused) >= 4, `counted: ${JSON.stringify(second)}`);
    } finally {
      for (const s of idle) s.destroy();
      client.close();
    }
  });

  test('HTTP side port: silent and slow-header connections are closed after headersTimeoutMs', async () => {
    const silent = await rawConnect(httpPort);
    const slow = await rawConnect(httpPort);
    slow.socket.write('GET /metrics HTTP/1.1\r\nHost: side\r\n');
    const [silentMs, slowMs] = await Promise.all([silent.closed(WITHIN_MS), slow.closed(WITHIN_MS)]);
    console.log(`side port, headersTimeoutMs 3000: silent closed after ${silentMs} ms, slow headers after ${slowMs} ms`);
    assert.match(slow.received().toString(), /^HTTP\/1\.1 408/);
  });

  test('HTTP side port: past maxConnections new connections are closed at once, with one warning', async () => {
    const held = await Promise.all(Array.from({ length: 4 }, () => rawConnect(httpPort)));
    try {
      const extra = await rawConnect(httpPort);
      extra.socket.write('GET /metrics HTTP/1.1\r\nHost: side\r\n\r\n');
      await extra.closed(WITHIN_MS);
      assert.equal(extra.received().length, 0, 'closed without an answer (a headers timeout would answer 408)');
      await sleep(200);
      const lines = limitLines('HTTP side port');
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.match(String(lines[0]!.msg), /grpc\.http\.maxConnections is 4/);
    } finally {
      for (const conn of held) conn.socket.destroy();
    }
  });
});
