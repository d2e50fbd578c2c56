// GetCoin's read cache across node:cluster workers: each worker keeps its own cache, and a price
// changed through any worker is served by every worker's next call. A real `cfg rungrpc` with
// two processes on port 0, on SQLite. The request log (on here) says which worker answered each
// reader, by its server id, and the monitor's grpc_server rows which process that is: the test
// fails unless both workers served the new price.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cryptoClient, type CryptoClient } from '../apps/crypto/grpc_services/client.ts';
import { startCrypto, type CryptoEnv } from './support/crypto-env.ts';

/** Polls `read` until `done` says yes (at most `ms`), then returns what it read last. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > end) return value;
    await sleep(100);
  }
}

describe('GetCoin across cluster workers (SQLite, 2 processes)', () => {
  let app: CryptoEnv;
  const readers: CryptoClient[] = [];
  before(async () => {
    app = await startCrypto('sqlite', { CFG_GRPC_PROCESSES: '2', CFG_REQUEST_LOG: '1' });
  });
  after(async () => {
    for (const r of readers) r.close();
    await app?.stop();
  });

  test('a price changed through one worker is served by every worker', async () => {
    // The banner comes from the first worker; the second records itself once it listens.
    const workers = await until(
      () => app.query(`SELECT id, pid FROM grpc_server WHERE status = 'serving'`),
      (rows) => rows.length === 2,
    );
    assert.equal(workers.length, 2, `serving workers: ${JSON.stringify(workers)}`);
    const pidOf = new Map(workers.map((w) => [String(w.id), String(w.pid)]));
    assert.ok(!pidOf.has(String(app.child.pid)) && new Set(pidOf.values()).size === 2, `two worker processes: ${JSON.stringify(workers)}`);

    // A local subchannel pool per client: one TCP connection each (grpc-js would otherwise share
    // one between clients of the same address), which node:cluster hands to the workers in turn.
    for (let i = 0; i < 4; i++) readers.push(cryptoClient(app.address, { channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }));
    for (const r of readers) assert.equal((await r.getCoin({ symbol: 'DOGE' })).coin!.symbol, 'DOGE');
    const editor = await app.client('editor');
    for (const price of ['0.5', '0.25']) {
      await editor.updateCoinPrice({ symbol: 'DOGE', priceUsd: price, change24hPercent: '' });
      for (const r of readers) assert.equal((await r.getCoin({ symbol: 'DOGE' })).coin!.priceUsd, price);
    }

    // Which worker answered each reader: a connection stays on the worker that accepted it.
    const calls = 3 * readers.length;
    const rows = await until(
      () => app.query(`SELECT peer, "serverId" FROM grpc_request_log WHERE method = 'GetCoin'`),
      (r) => r.length >= calls,
    );
    assert.equal(rows.length, calls, 'every GetCoin is in the request log');
    const workerOfPeer = new Map<string, Set<string>>();
    for (const row of rows) {
      const pid = pidOf.get(String(row.serverId));
      assert.ok(pid, `GetCoin answered by an unknown server ${row.serverId}`);
      workerOfPeer.set(String(row.peer), (workerOfPeer.get(String(row.peer)) ?? new Set()).add(pid));
    }
    assert.equal(workerOfPeer.size, readers.length, `one connection per reader: ${[...workerOfPeer.keys()].join(', ')}`);
    for (const [peer, pids] of workerOfPeer) assert.equal(pids.size, 1, `${peer} answered by one worker`);
    const served = new Set([...workerOfPeer.values()].flatMap((pids) => [...pids]));
    // Each reader saw each new price (above), so each worker that answered a reader served it.
    assert.deepEqual([...served].sort(), [...new Set(pidOf.values())].sort(), 'both workers answered readers');
  });
});
