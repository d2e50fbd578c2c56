// Every request is noted as it reaches the process (src/call/arrivals.ts), by every transport cfg
// serves: gRPC (grpc-js's HTTP/2 server, through the connection injector), and the web listener
// over HTTP/2 and HTTP/1.1. A value read for earlier calls (DataVersion.readForCall: GetCoin's
// SQLite cache) is then never reused for a request that arrived after it was read. The crypto app
// in process (cfg-grpc/testing), real clients.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from 'cfg-grpc/testing';
import { CryptoServiceService } from '../generated/crypto_service.ts';
import { noArrivalSince } from '../src/call/arrivals.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer({
    root: fileURLToPath(new URL('..', import.meta.url)),
    apps: ['crypto'],
    seed: true,
    config: { grpc: { web: { enabled: true, host: '127.0.0.1', port: 0 } } },
  });
  assert.ok(server.running.webPort, 'the web listener is served');
});
after(() => server.stop());

/** A moment after which nothing has arrived yet (checked), before `send` sends one request. */
async function arrivesAfter(send: () => Promise<unknown>): Promise<boolean> {
  const mark = performance.now();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(noArrivalSince(mark), true, 'a request arrived with none sent');
  await send();
  return !noArrivalSince(mark);
}

const GET_COIN = '/crypto.CryptoService/GetCoin';

test('a gRPC call is noted as it arrives', async () => {
  const client = server.client(CryptoServiceService);
  await client.getCoin({ symbol: 'BTC' }); // connected
  assert.equal(await arrivesAfter(() => client.getCoin({ symbol: 'BTC' })), true);
});

test('a Connect call over HTTP/1.1 is noted as it arrives', async () => {
  const url = `http://127.0.0.1:${server.running.webPort}${GET_COIN}`;
  const send = async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"symbol":"BTC"}' });
    assert.equal(res.status, 200);
    await res.text();
  };
  await send();
  assert.equal(await arrivesAfter(send), true);
});

test('a Connect call over HTTP/2 is noted as it arrives', async () => {
  const session = http2.connect(`http://127.0.0.1:${server.running.webPort}`);
  try {
    const send = () =>
      new Promise<void>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': GET_COIN, 'content-type': 'application/json' });
        req.on('response', (headers) => assert.equal(headers[':status'], 200));
        req.on('error', reject);
        req.resume();
        req.on('end', resolve);
        req.end('{"symbol":"BTC"}');
      });
    await send();
    assert.equal(await arrivesAfter(send), true);
  } finally {
    session.close();
  }
});
