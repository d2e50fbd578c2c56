// The event channel's connection cut mid-stream and restored: two `cfg rungrpc` servers on one
// PostgreSQL; B listens through a TCP proxy the test cuts (events.listenUrl: its queries go
// straight to the database, only its LISTEN connection crosses the proxy). While the channel is
// down B's GetCoin cache is off (every call reads the database: each price written through A is
// served at once); B's WatchPrices streams miss the updates made meanwhile, and once the channel
// is back they are resynchronised: each gets the current price of every coin it watches that
// changed, once, in order, and later updates as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cryptoClient } from '../apps/crypto/grpc_services/client.ts';
import type { PriceUpdate } from '../generated/crypto_service.ts';
import { spawnCryptoServer, startCrypto } from './support/crypto-env.ts';
import { until } from './support/deployment.ts';
import { pgProxy } from './support/pg-proxy.ts';

test('channel cut mid-stream and restored: the cache reads the database while it is down; streams are resynchronised when it is back', async (t) => {
  const proxy = await pgProxy();
  const app = await startCrypto('postgresql');
  const url = new URL(String(app.env.DATABASE_URL));
  url.host = `127.0.0.1:${proxy.port}`;
  const b = await spawnCryptoServer({ ...app.env, CFG_EVENTS_LISTEN_URL: url.toString() });
  const bAddress = `127.0.0.1:${b.port}`;
  const editor = await app.client('editor');
  const reader = cryptoClient(bAddress);
  const watchers = Array.from({ length: 4 }, () => cryptoClient(bAddress, { channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }));
  const stop = new AbortController();
  const got: PriceUpdate[][] = watchers.map(() => []);
  const streams = watchers.map(async (w, i) => {
    try {
      for await (const u of w.watchPrices({ symbols: ['BTC', 'ETH'] }, { signal: stop.signal }) as AsyncIterable<PriceUpdate>)
        got[i]!.push(u);
    } catch (err) {
      if (!stop.signal.aborted) throw err;
    }
  });
  const prices = (i: number, symbol: string) => got[i]!.filter((u) => u.symbol === symbol).map((u) => u.priceUsd);
  const everyWatcher = (fn: (i: number) => boolean) => watchers.every((_, i) => fn(i));
  const read = async () => (await reader.getCoin({ symbol: 'BTC' })).coin!.priceUsd;
  try {
    assert.ok(
      await until(() => proxy.open > 0 && everyWatcher((i) => got[i]!.length === 2)),
      'B listens through the proxy; every watcher has its current prices',
    );

    // Up: B's cache holds BTC, and an update through A reaches the watchers through the channel.
    await editor.updateCoinPrice({ symbol: 'BTC', priceUsd: '50001', change24hPercent: '' });
    assert.ok(await until(async () => (await read()) === '50001'), 'B serves the new price');
    assert.ok(await until(() => everyWatcher((i) => prices(i, 'BTC').at(-1) === '50001')), 'the update reaches every watcher on B');

    await proxy.cut();
    const cutAt = performance.now();
    // Within events.maxStalenessMs (1000 ms) of the cut, B stops trusting its cache: from then on
    // every price written through A is served by B's very next call (from the database).
    await sleep(1100);
    for (const price of ['50002', '50003', '50004']) {
      await editor.updateCoinPrice({ symbol: 'BTC', priceUsd: price, change24hPercent: '' });
      assert.equal(await read(), price, 'while the channel is down, B reads the database');
    }
    await editor.updateCoinPrice({ symbol: 'ETH', priceUsd: '3001', change24hPercent: '' });
    await sleep(300);
    assert.ok(
      everyWatcher((i) => prices(i, 'BTC').at(-1) === '50001'),
      'the updates made while it is down do not arrive through the cut channel',
    );
    const [row] = await app.query(`SELECT channel, subscribers FROM grpc_server WHERE pid = ${b.child.pid}`);
    t.diagnostic(`B's grpc_server row while cut: channel "${row?.channel}", ${row?.subscribers} subscribers`);
    assert.equal(row?.channel, 'postgresql down', "B's monitor row says its channel is down (written when it went down)");
    assert.equal(row?.subscribers, String(watchers.length), "and counts B's WatchPrices streams");

    await proxy.restore();
    const restoredAt = performance.now();
    // Resynchronised: the current price of every watched coin that changed, once.
    assert.ok(
      await until(() => everyWatcher((i) => prices(i, 'BTC').at(-1) === '50004' && prices(i, 'ETH').at(-1) === '3001'), 20_000),
      `resynchronised: ${JSON.stringify(got.map((g) => g.map((u) => `${u.symbol} ${u.priceUsd}`)))}`,
    );
    t.diagnostic(
      `cut ${(restoredAt - cutAt).toFixed(0)} ms; watchers resynchronised ${(performance.now() - restoredAt).toFixed(0)} ms after the proxy came back`,
    );
    for (let i = 0; i < watchers.length; i++) {
      assert.deepEqual(
        prices(i, 'BTC').slice(1),
        ['50001', '50004'],
        `watcher ${i}: BTC after the snapshot: the update, then the current price once`,
      );
      assert.equal(prices(i, 'ETH').length, 2, `watcher ${i}: ETH's snapshot and its current price`);
    }
    // And as before: updates through A arrive, in order, once; B's cache is coherent again.
    for (const price of ['50005', '50006']) await editor.updateCoinPrice({ symbol: 'BTC', priceUsd: price, change24hPercent: '' });
    assert.ok(await until(() => everyWatcher((i) => prices(i, 'BTC').at(-1) === '50006')));
    await sleep(200);
    for (let i = 0; i < watchers.length; i++) assert.deepEqual(prices(i, 'BTC').slice(1), ['50001', '50004', '50005', '50006']);
    assert.ok(await until(async () => (await read()) === '50006'));
    assert.ok(proxy.accepted >= 2, 'B connected again through the proxy');
  } finally {
    stop.abort();
    await Promise.allSettled(streams);
    reader.close();
    for (const w of watchers) w.close();
    await b.stop();
    await app.stop();
    await proxy.close();
  }
});
