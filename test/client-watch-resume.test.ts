// watchPricesResumed across a drained server: a WatchPrices stream on server A, A drained
// (SIGTERM: its streams end UNAVAILABLE), the helper re-opens the stream on server B (the other
// address, on the same database), drops the snapshot's repeat of what it already passed on, and
// passes on every later update once.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { cryptoClient, watchPricesResumed } from '../apps/crypto/grpc_services/client.ts';
import type { PriceUpdate } from '../generated/crypto_service.ts';
import { spawnCryptoServer, startCrypto, type CryptoEnv, type CryptoServerProcess } from './support/crypto-env.ts';

let app: CryptoEnv | undefined;
let second: CryptoServerProcess | undefined;
after(async () => {
  await second?.stop();
  await app?.stop();
});

/** A port nothing listens on now (B binds it later: the watcher's client is made with both addresses). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('a WatchPrices resume across a server drain passes on every later update once', async () => {
  app = await startCrypto('sqlite');
  const bPort = await freePort();
  const token = await app.token('editor');
  const editorA = cryptoClient(app.address, { token });
  const watcher = cryptoClient([app.address, `127.0.0.1:${bPort}`]);
  const stop = new AbortController();
  const got: PriceUpdate[] = [];
  const resumes: number[] = [];
  const watching = (async () => {
    for await (const u of watchPricesResumed(
      watcher,
      { symbols: ['BTC', 'ETH'] },
      { signal: stop.signal, maxAttempts: 40, onResume: (e) => void resumes.push(e.code ?? -1) },
    ))
      got.push(u);
  })();
  const until = async (what: string, done: () => boolean) => {
    for (let i = 0; i < 3000 && !done(); i++) await sleep(10);
    assert.ok(done(), `${what}; got ${JSON.stringify(got.map((u) => [u.symbol, u.priceUsd]))}`);
  };
  const btc = () => got.filter((u) => u.symbol === 'BTC').map((u) => u.priceUsd);
  try {
    await until('the snapshot from A', () => btc().length === 1);
    await editorA.updateCoinPrice({ symbol: 'BTC', priceUsd: '70001', change24hPercent: '' });
    await until('70001 from A', () => btc().includes('70001'));

    second = await spawnCryptoServer({ ...app.env, CFG_GRPC_PORT: String(bPort) });
    const editorB = cryptoClient(`127.0.0.1:${bPort}`, { token });
    const drained = Date.now();
    editorA.close();
    await app.stopServer(); // SIGTERM: A drains, ending the stream UNAVAILABLE
    assert.ok(resumes.length >= 1 && resumes.every((c) => c === status.UNAVAILABLE), `resumed after UNAVAILABLE: ${resumes}`);

    // The stream is open on B once an ETH change made through B reaches the watcher.
    for (let i = 1; ; i++) {
      assert.ok(i < 200, 'the watcher never saw a change made through B');
      const marker = String(3100 + i);
      await editorB.updateCoinPrice({ symbol: 'ETH', priceUsd: marker, change24hPercent: '' });
      await sleep(100);
      if (got.some((u) => u.symbol === 'ETH' && u.priceUsd === marker)) break;
    }
    console.log(`resumed on B ${Date.now() - drained} ms after the drain began, after ${resumes.length} re-open(s)`);
    for (const price of ['70002', '70003', '70004'])
      await editorB.updateCoinPrice({ symbol: 'BTC', priceUsd: price, change24hPercent: '' });
    await until('70004 from B', () => btc().includes('70004'));
    await sleep(300); // room for a duplicate to arrive, were there one
    const [snapshot, ...later] = btc();
    assert.ok(snapshot);
    assert.deepEqual(later.map(Number), [70001, 70002, 70003, 70004], "each update once, in order; B's snapshot repeat of 70001 dropped");
    const versions = got.filter((u) => u.symbol === 'BTC').map((u) => u.updatedAt!.getTime());
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
      'versions rise',
    );
    editorB.close();
  } finally {
    stop.abort();
    await watching;
    watcher.close();
  }
});
