// GetCoin's read cache on SQLite: every commit, by the server itself or by another process writing
// the same file, is seen by the next call (suite in support/coin-cache-suite.ts; PostgreSQL in
// coin-cache-postgresql.test.ts, cluster workers in coin-cache-cluster.test.ts). And the cache
// itself on a real SQLite file: calls that miss together share one load, and a call made after a
// commit never shares a load begun before it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CoinCache } from '../apps/crypto/grpc_services/coin-cache.ts';
import type { Coin } from '../generated/crypto_service.ts';
import { sqliteDataVersion } from '../src/db/data-version.ts';
import { describeCoinCache } from './support/coin-cache-suite.ts';

describeCoinCache('sqlite');

describe('CoinCache on a SQLite file: one load per symbol and version', () => {
  /** A file with a price, the cache on its data version, and a load that counts itself and can be held. */
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-coin-cache-'));
    const file = join(dir, 'db.sqlite3');
    const writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    writer.exec("CREATE TABLE price (symbol TEXT PRIMARY KEY, usd TEXT); INSERT INTO price VALUES ('BTC', '1')");
    const version = sqliteDataVersion(Database, file);
    const reader = new Database(file, { readonly: true });
    const select = reader.prepare('SELECT usd FROM price WHERE symbol = ?').pluck();
    let hold: Promise<void> = Promise.resolve();
    const loads = { count: 0 };
    const load = async (): Promise<Coin | null> => {
      loads.count++;
      const usd = select.get('BTC') as string; // read when the load starts, as the query would
      await hold;
      return { symbol: 'BTC', priceUsd: usd } as Coin;
    };
    return {
      cache: new CoinCache(version),
      loads,
      load,
      holdNext(): () => void {
        let release!: () => void;
        hold = new Promise((r) => (release = r));
        return release;
      },
      commit: (usd: string) => writer.prepare("UPDATE price SET usd = ? WHERE symbol = 'BTC'").run(usd),
      close() {
        version.close();
        reader.close();
        writer.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };

  test('64 calls that miss together run one load, and each commit costs one more', async () => {
    const t = setup();
    try {
      const release = t.holdNext();
      const first = Array.from({ length: 64 }, () => t.cache.get('BTC', t.load));
      release();
      assert.deepEqual(new Set((await Promise.all(first)).map((c) => c?.priceUsd)), new Set(['1']));
      assert.equal(t.loads.count, 1);
      for (const usd of ['2', '3']) {
        t.commit(usd);
        const after = await Promise.all(Array.from({ length: 64 }, () => t.cache.get('BTC', t.load)));
        assert.deepEqual(new Set(after.map((c) => c?.priceUsd)), new Set([usd]));
      }
      assert.equal(t.loads.count, 3);
    } finally {
      t.close();
    }
  });

  test('a call made after a commit does not share the load in flight from before it', async () => {
    const t = setup();
    try {
      const release = t.holdNext();
      const before = t.cache.get('BTC', t.load); // loads '1', held
      t.commit('2');
      const after = t.cache.get('BTC', t.load);
      release();
      assert.equal((await before)?.priceUsd, '1');
      assert.equal((await after)?.priceUsd, '2', 'the call after the commit sees it');
      assert.equal(t.loads.count, 2);
      assert.equal((await t.cache.get('BTC', t.load))?.priceUsd, '2');
      assert.equal(t.loads.count, 2, 'and its load is what the cache keeps');
    } finally {
      t.close();
    }
  });

  test('a load that fails fails the calls sharing it, and the next call loads again', async () => {
    const t = setup();
    try {
      let fail = true;
      const load = async () => {
        if (fail) {
          t.loads.count++;
          await new Promise((r) => setImmediate(r));
          throw new Error('database gone');
        }
        return t.load();
      };
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => t.cache.get('BTC', load)));
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set(['rejected']));
      assert.equal(t.loads.count, 1);
      fail = false;
      assert.equal((await t.cache.get('BTC', load))?.priceUsd, '1');
      assert.equal(t.loads.count, 2);
    } finally {
      t.close();
    }
  });
});
