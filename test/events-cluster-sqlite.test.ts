// `cfg rungrpc --processes 2` on SQLite: a WatchPrices subscriber on one cluster worker sees every
// update written through the other (and through its own), once, in order. Events travel through
// the cfg_event table, written by the coin trigger in the write's transaction and read by each
// worker when PRAGMA data_version changes. Which worker served each connection is read from the
// request log (peer -> server id) and the monitor (server id -> pid): the test fails unless a
// subscriber and a writer were on different workers.
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cryptoClient, type CryptoClient } from '../apps/crypto/grpc_services/client.ts';
import type { PriceUpdate } from '../generated/crypto_service.ts';
import { startCrypto, type CryptoEnv } from './support/crypto-env.ts';
import { percentile, until } from './support/deployment.ts';

let app: CryptoEnv;
before(async () => {
  app = await startCrypto('sqlite', { CFG_GRPC_PROCESSES: '2', CFG_REQUEST_LOG: '1' });
});
after(async () => {
  await app?.stop();
});

test('--processes 2 on SQLite: a subscriber on one worker sees every update written through the other, once, in order', async (t) => {
  // The banner comes from the first worker; the second records itself once it listens.
  assert.ok(
    await until(async () => (await app.query(`SELECT id FROM grpc_server WHERE status = 'serving'`)).length === 2, 30_000),
    'both workers serve',
  );
  const own = (token?: string) =>
    cryptoClient(app.address, { ...(token ? { token } : {}), channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
  const token = await app.token('editor');
  // One connection each, handed to the workers in turn by the primary.
  const watchers: CryptoClient[] = Array.from({ length: 4 }, () => own());
  const writers: CryptoClient[] = Array.from({ length: 4 }, () => own(token));
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  try {
    // A GetCoin on each connection first: the request log then says which worker holds it.
    for (const c of [...watchers, ...writers]) await c.getCoin({ symbol: 'BTC' });
    const got: Array<Array<{ price: string; at: number }>> = watchers.map(() => []);
    const snapshots = watchers.map(() => 0);
    const streams = watchers.map(async (w, i) => {
      try {
        for await (const u of w.watchPrices({ symbols: ['DOGE'] }, { signal: stop.signal }) as AsyncIterable<PriceUpdate>) {
          if (snapshots[i]! === 0) snapshots[i] = 1;
          else got[i]!.push({ price: u.priceUsd, at: performance.now() });
        }
      } catch (err) {
        if (!stop.signal.aborted) throw err;
      }
    });
    assert.ok(await until(() => snapshots.every((s) => s === 1)), 'every watcher has its current price');

    const prices = Array.from({ length: 40 }, (_, k) => `0.${String(1000 + k)}`);
    const sentAt = new Map<string, number>();
    for (const [k, price] of prices.entries()) {
      sentAt.set(price, performance.now());
      await writers[k % writers.length]!.updateCoinPrice({ symbol: 'DOGE', priceUsd: price, change24hPercent: '' });
    }
    assert.ok(await until(() => got.every((g) => g.length >= prices.length)), `every update arrives: ${got.map((g) => g.length)}`);
    await sleep(200); // room for a duplicate to arrive, were there one
    for (const [i, g] of got.entries())
      assert.deepEqual(
        g.map((x) => x.price),
        prices.map((p) => String(Number(p))),
        `watcher ${i}: every update once, in order`,
      );
    const latencies = got.flatMap((g) => g.map((x) => x.at - sentAt.get(`0.${x.price.slice(2).padEnd(4, '0')}`)!)).filter(Number.isFinite);

    // Which worker each connection was on.
    const workers = await app.query(`SELECT id, pid FROM grpc_server WHERE status = 'serving'`);
    const pidOf = new Map(workers.map((w) => [String(w.id), String(w.pid)]));
    assert.equal(new Set(pidOf.values()).size, 2, `two workers: ${JSON.stringify(workers)}`);
    const rows = await until(
      async () => (await app.query(`SELECT peer FROM grpc_request_log WHERE method = 'UpdateCoinPrice'`)).length >= prices.length,
      15_000,
    );
    assert.ok(rows, 'the request log has the updates');
    const log = await app.query(`SELECT peer, "serverId", method FROM grpc_request_log WHERE method IN ('GetCoin', 'UpdateCoinPrice')`);
    const workerOfPeer = new Map(log.map((r) => [String(r.peer), pidOf.get(String(r.serverId))]));
    const writerWorkers = new Set(log.filter((r) => r.method === 'UpdateCoinPrice').map((r) => pidOf.get(String(r.serverId))));
    const watcherPeers = new Set(log.filter((r) => r.method === 'GetCoin').map((r) => String(r.peer)));
    for (const r of log) if (r.method === 'UpdateCoinPrice') watcherPeers.delete(String(r.peer));
    const watcherWorkers = new Set([...watcherPeers].map((p) => workerOfPeer.get(p)));
    assert.equal(writerWorkers.size, 2, `updates were written through both workers: ${[...writerWorkers]}`);
    assert.equal(watcherWorkers.size, 2, `watchers on both workers: ${[...watcherWorkers]}`);
    t.diagnostic(
      `${watchers.length} watchers on 2 workers, ${prices.length} updates through both: delivery p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
    );
    stop.abort();
    await Promise.allSettled(streams);
  } finally {
    stop.abort();
    for (const c of [...watchers, ...writers]) c.close();
  }
});
