// The GetCoin read-cache suite, run per database by coin-cache.test.ts and
// coin-cache-postgresql.test.ts. The cache (apps/crypto/grpc_services/coin-cache.ts) never serves
// a stale coin: on SQLite every commit, made by the server itself or by another process writing
// the same database, is seen by the next call (PRAGMA data_version). On PostgreSQL the server's
// own writes are seen by the next call, and another process's (any connection: a trigger sends
// the event in its transaction) within the event channel's delay, at most events.maxStalenessMs
// (1000 ms here; test/events-*.test.ts measure it). GetCoin's raw query answers what findUnique
// would. Real `cfg rungrpc` servers on port 0, real databases.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import pg from 'pg';
import { findCoinBySymbol } from '../../apps/crypto/grpc_services/coin-query.ts';
import { createDb } from '../../src/db/client.ts';
import { parseDatabaseUrl } from '../../src/db/url.ts';
import { callError } from '../fixtures/client.ts';
import { PG_URL, startCrypto, type CryptoEnv, type Provider } from './crypto-env.ts';

/** A write from outside the server: another connection in another process (this test's). */
async function writeOutside(app: CryptoEnv, sql: string): Promise<void> {
  const url = String(app.env.DATABASE_URL);
  if (app.provider === 'sqlite') {
    const db = new Database(url.slice('file:'.length));
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare(sql).run();
    } finally {
      db.close();
    }
    return;
  }
  const schema = new URL(url).searchParams.get('schema')!;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${schema}`);
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The bound on PostgreSQL: events.maxStalenessMs (its default). */
const MAX_STALENESS_MS = 1000;

/**
 * What GetCoin answers after a write made outside the server: at once on SQLite; on PostgreSQL the
 * first answer that `done` accepts within MAX_STALENESS_MS (the answer at the bound otherwise).
 */
async function afterOutsideWrite<T>(app: CryptoEnv, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  if (app.provider === 'sqlite') return read();
  const end = performance.now() + MAX_STALENESS_MS;
  for (;;) {
    const value = await read();
    if (done(value) || performance.now() > end) return value;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The suite, on one database (one file per database keeps each file within the per-file timeout). */
export function describeCoinCache(provider: Provider): void {
  describe(`GetCoin sees every write (${provider})`, () => {
    let app: CryptoEnv;
    before(async () => {
      app = await startCrypto(provider);
    });
    after(async () => {
      await app?.stop();
    });

    test("GetCoin's query returns exactly the row findUnique returns, for every coin and a missing one, in any time zone", async () => {
      const db = await createDb(parseDatabaseUrl(String(app.env.DATABASE_URL), process.cwd()));
      // A coin whose values a wrong parser would change: a bigint past 2^53 (a string or a rounded
      // number otherwise), timestamps with milliseconds, compared in a time zone far from UTC (a
      // timestamp column read as local time would be 13 hours off).
      const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
      const big = 9_007_199_254_740_993n;
      await db.coin.create({
        data: {
          symbol: 'EDGE',
          name: 'Edge',
          priceUnits: big,
          marketCapCents: big + 2n,
          change24hBps: -123,
          isActive: false,
          createdAt: at,
          updatedAt: at,
        },
      });
      const zone = process.env.TZ;
      process.env.TZ = 'Pacific/Auckland';
      try {
        assert.notEqual(new Date(2026, 0, 2).getTime(), Date.UTC(2026, 0, 2), 'the time zone took effect');
        const symbols = (await db.coin.findMany({ select: { symbol: true } })).map((c) => c.symbol);
        assert.ok(symbols.length >= 7);
        for (const symbol of [...symbols, 'MISSING']) {
          assert.deepEqual(await findCoinBySymbol(db, symbol), await db.coin.findUnique({ where: { symbol } }));
        }
        const edge = await findCoinBySymbol(db, 'EDGE');
        assert.deepEqual(
          [edge?.priceUnits, edge?.marketCapCents, edge?.change24hBps, edge?.isActive, edge?.createdAt.getTime()],
          [big, big + 2n, -123, false, at.getTime()],
        );
      } finally {
        if (zone === undefined) delete process.env.TZ;
        else process.env.TZ = zone;
        await db.coin.delete({ where: { symbol: 'EDGE' } });
        await db.$disconnect();
      }
    });

    test("GetCoin's query is reported to the client's query hook (the db debug log, setQueryListener), once per call", async () => {
      const seen: string[] = [];
      const db = await createDb(parseDatabaseUrl(String(app.env.DATABASE_URL), process.cwd()), { onQuery: (sql) => seen.push(sql) });
      try {
        await db.$connect();
        seen.length = 0;
        assert.equal((await findCoinBySymbol(db, 'BTC'))?.symbol, 'BTC');
        assert.equal(await findCoinBySymbol(db, 'MISSING'), null);
        assert.equal(seen.length, 2, seen.join('\n'));
        for (const sql of seen) assert.match(sql, /FROM "crypto_coin" WHERE "symbol" = /);
      } finally {
        await db.$disconnect();
      }
    });

    test('a price written by another process is served by the next call, each time', async () => {
      const anon = await app.client();
      const before = (await anon.getCoin({ symbol: 'BTC' })).coin!.priceUsd;
      assert.equal((await anon.getCoin({ symbol: 'BTC' })).coin!.priceUsd, before);
      for (const price of ['12345.5', '23456.25', '34567']) {
        await writeOutside(
          app,
          `UPDATE crypto_coin SET "priceUnits" = ${BigInt(Math.round(Number(price) * 100)) * 1_000_000n} WHERE symbol = 'BTC'`,
        );
        const read = () => anon.getCoin({ symbol: 'BTC' }).then((r) => r.coin!.priceUsd);
        assert.equal(await afterOutsideWrite(app, read, (p) => p === price), price);
        assert.equal((await anon.getCoin({ symbol: 'BTC' })).coin!.priceUsd, price);
      }
    });

    test('a coin deleted, brought back or created outside the server is seen at once (misses are not kept)', async () => {
      const anon = await app.client();
      assert.equal((await anon.getCoin({ symbol: 'ETH' })).coin!.symbol, 'ETH');
      const code = (symbol: string) =>
        anon.getCoin({ symbol }).then(
          () => status.OK,
          (e: { code: number }) => e.code,
        );
      await writeOutside(app, `UPDATE crypto_coin SET "isActive" = false WHERE symbol = 'ETH'`);
      assert.equal(
        await afterOutsideWrite(
          app,
          () => code('ETH'),
          (c) => c === status.NOT_FOUND,
        ),
        status.NOT_FOUND,
      );
      await writeOutside(app, `UPDATE crypto_coin SET "isActive" = true WHERE symbol = 'ETH'`);
      assert.equal(
        await afterOutsideWrite(
          app,
          () => code('ETH'),
          (c) => c === status.OK,
        ),
        status.OK,
      );
      assert.equal((await anon.getCoin({ symbol: 'ETH' })).coin!.symbol, 'ETH');

      assert.equal((await callError(anon.getCoin({ symbol: 'NEWC' }))).code, status.NOT_FOUND);
      await writeOutside(
        app,
        `INSERT INTO crypto_coin (symbol, name, "priceUnits", "updatedAt") VALUES ('NEWC', 'New Coin', 150000000, CURRENT_TIMESTAMP)`,
      );
      assert.equal(
        await afterOutsideWrite(
          app,
          () => code('NEWC'),
          (c) => c === status.OK,
        ),
        status.OK,
      );
      const created = (await anon.getCoin({ symbol: 'NEWC' })).coin!;
      assert.deepEqual([created.symbol, created.name, created.priceUsd], ['NEWC', 'New Coin', '1.5']);
    });

    test("the server's own writes (UpdateCoinPrice, DeleteCoin) are seen by the next GetCoin, at once", async () => {
      const anon = await app.client();
      const editor = await app.client('editor');
      assert.equal((await anon.getCoin({ symbol: 'SOL' })).coin!.symbol, 'SOL');
      await editor.updateCoinPrice({ symbol: 'SOL', priceUsd: '77.7', change24hPercent: '' });
      assert.equal((await anon.getCoin({ symbol: 'SOL' })).coin!.priceUsd, '77.7');
      const admin = await app.client('admin');
      await admin.deleteCoin({ symbol: 'SOL' });
      assert.equal((await callError(anon.getCoin({ symbol: 'SOL' }))).code, status.NOT_FOUND);
    });
  });
}
