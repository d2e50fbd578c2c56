// GetCoin's cache on SQLite reads the database's data version once per pass of the event loop
// (apps/crypto/grpc_services/coin-cache.ts): the calls one pass handles share that read, and a
// commit by any other connection is seen by the first call of the next pass. A real SQLite file,
// a real second connection committing, the real DataVersion.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { CoinCache } from '../apps/crypto/grpc_services/coin-cache.ts';
import type { Coin } from '../generated/crypto_service.ts';
import { sqliteDataVersion } from '../src/db/data-version.ts';

const nextPass = () => new Promise((resolve) => setImmediate(resolve));

test('a commit by another connection is seen by the first GetCoin of the next event-loop pass; the calls of one pass share one data-version read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-coin-cache-pass-'));
  const file = join(dir, 'db.sqlite3');
  const writer = new Database(file);
  writer.exec('CREATE TABLE coin (symbol TEXT PRIMARY KEY, price TEXT)');
  writer.prepare("INSERT INTO coin VALUES ('BTC', '1')").run();
  const version = sqliteDataVersion(Database, file);
  try {
    const cache = new CoinCache(version);
    let loads = 0;
    const load = async (): Promise<Coin | null> => {
      loads++;
      const row = writer.prepare("SELECT price FROM coin WHERE symbol = 'BTC'").get() as { price: string };
      return { symbol: 'BTC', priceUsd: row.price } as Coin;
    };

    assert.equal((await cache.get('BTC', load))?.priceUsd, '1');
    assert.equal((await cache.get('BTC', load))?.priceUsd, '1');
    assert.equal(loads, 1, 'a second call with nothing committed is a hit');

    await nextPass();
    assert.equal((await cache.get('BTC', load))?.priceUsd, '1');
    writer.prepare("UPDATE coin SET price = '2' WHERE symbol = 'BTC'").run();
    // Same pass: the version was read before the commit, which raced this call.
    assert.equal((await cache.get('BTC', load))?.priceUsd, '1');
    assert.equal(loads, 1);

    await nextPass();
    assert.equal((await cache.get('BTC', load))?.priceUsd, '2', 'the next pass reads the version again and sees the commit');
    assert.equal(loads, 2);

    // A commit between passes, with no call in the pass it was made in.
    await nextPass();
    writer.prepare("UPDATE coin SET price = '3' WHERE symbol = 'BTC'").run();
    await nextPass();
    assert.equal((await cache.get('BTC', load))?.priceUsd, '3');
    assert.equal(loads, 3);
  } finally {
    version.close();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
