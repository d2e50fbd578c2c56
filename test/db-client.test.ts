// The Prisma client cfg gives apps: the same code reads and writes through the better-sqlite3
// and pg adapters, queries can be counted, getDb() is one client per process, and a database
// outage reaches gRPC clients as UNAVAILABLE without the URL or password.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveConfig } from '../src/config/resolve.ts';
import { applyMigrations } from '../src/db/apply.ts';
import { closeDb, createDb, getDb, type Db } from '../src/db/client.ts';
import { parseDatabaseUrl } from '../src/db/url.ts';
import { Status } from '../src/server/grpc-error.ts';
import { classify } from '../src/server/status.ts';
import { closedPort, dbProject, PROVIDERS, testDatabase, withMigratedDb } from './support/db.ts';

/** A migrated database and a client on it (counting its queries) for one test. */
async function withClient(provider: (typeof PROVIDERS)[number], fn: (db: Db, queries: string[]) => Promise<void>) {
  const queries: string[] = [];
  await withMigratedDb(provider, (db) => fn(db, queries), { onQuery: (sql) => queries.push(sql) });
}

for (const provider of PROVIDERS) {
  describe(`client on ${provider}`, () => {
    test('reads and writes through the adapter: BigInt money, relations, unique keys, transactions', async () => {
      await withClient(provider, async (db) => {
        assert.equal(db.provider, provider);
        const big = 9_007_199_254_740_993n; // above 2^53: a float would lose it
        const coin = await db.coin.create({ data: { symbol: 'BTC', name: 'Bitcoin', priceUnits: 6_425_012_000_000n, marketCapCents: big } });
        const user = await db.user.create({ data: { username: 'alice', wallets: { create: { coinId: coin.id, balanceUnits: 150_000_000n } } } });

        const read = await db.user.findUniqueOrThrow({ where: { username: 'alice' }, include: { wallets: { include: { coin: true } } } });
        assert.equal(read.id, user.id);
        assert.equal(read.isActive, true);
        assert.ok(read.dateJoined instanceof Date);
        assert.equal(read.wallets[0]!.balanceUnits, 150_000_000n);
        assert.equal(read.wallets[0]!.coin.marketCapCents, big);
        assert.equal(read.wallets[0]!.coin.priceUnits, 6_425_012_000_000n);

        await assert.rejects(db.coin.create({ data: { symbol: 'BTC', name: 'again' } }), (err: { code?: string }) => err.code === 'P2002');

        // An interactive transaction that throws leaves nothing behind; one that returns commits.
        await assert.rejects(
          db.$transaction(async (tx) => {
            await tx.wallet.update({ where: { userId_coinId: { userId: user.id, coinId: coin.id } }, data: { balanceUnits: { decrement: 50_000_000n } } });
            throw new Error('insufficient funds elsewhere');
          }),
          /insufficient funds elsewhere/,
        );
        assert.equal((await db.wallet.findFirstOrThrow()).balanceUnits, 150_000_000n);
        await db.$transaction(async (tx) => {
          await tx.wallet.update({ where: { userId_coinId: { userId: user.id, coinId: coin.id } }, data: { balanceUnits: { decrement: 50_000_000n } } });
        });
        assert.equal((await db.wallet.findFirstOrThrow()).balanceUnits, 100_000_000n);
      });
    });

    test('onQuery counts SQL statements: a list with its relation is a constant number of queries, not N+1', async () => {
      await withClient(provider, async (db, queries) => {
        const user = await db.user.create({ data: { username: 'bob' } });
        const countFor = async () => {
          queries.length = 0;
          const rows = await db.wallet.findMany({ where: { userId: user.id }, include: { coin: true } });
          return { rows: rows.length, queries: queries.length };
        };
        for (const symbol of ['BTC', 'ETH']) {
          const coin = await db.coin.create({ data: { symbol, name: symbol } });
          await db.wallet.create({ data: { userId: user.id, coinId: coin.id } });
        }
        const two = await countFor();
        for (const symbol of ['SOL', 'ADA', 'DOGE', 'XRP']) {
          const coin = await db.coin.create({ data: { symbol, name: symbol } });
          await db.wallet.create({ data: { userId: user.id, coinId: coin.id } });
        }
        const six = await countFor();
        assert.equal(two.rows, 2);
        assert.equal(six.rows, 6);
        assert.ok(two.queries >= 1);
        assert.equal(six.queries, two.queries, 'queries grew with the number of rows');
        assert.ok(queries.some((sql) => /crypto_wallet/.test(sql)));
      });
    });
  });
}

describe('getDb', () => {
  test('one client per process, from the given config; closeDb() closes it and the next getDb() makes a new one', async () => {
    const project = await dbProject();
    const database = await testDatabase('sqlite', project.root);
    try {
      await applyMigrations(project.root, database.target);
      const config = resolveConfig({ database: { url: 'file:./var/test.sqlite3' } }, { root: project.root, env: {} });
      const a = await getDb(config);
      assert.equal(await getDb(), a, 'getDb() without a config returns the shared client');
      assert.equal(a.provider, 'sqlite');
      await a.user.create({ data: { username: 'carol' } });
      assert.deepEqual(await database.query('SELECT "username" FROM "auth_user"'), [{ username: 'carol' }]);
      await closeDb();
      const b = await getDb(config);
      assert.notEqual(b, a);
      assert.equal(await b.user.count(), 1);
    } finally {
      await closeDb();
      await database.drop();
      await project.remove();
    }
  });
});

describe('database outages', () => {
  test('an unreachable PostgreSQL becomes UNAVAILABLE "Database unavailable: ..." with no URL or password', async () => {
    const port = await closedPort();
    const url = `postgresql://postgres:hunter2-secret@127.0.0.1:${port}/test?schema=nowhere`;
    const db = await createDb(parseDatabaseUrl(url, process.cwd()));
    try {
      const err = await db.coin.count().then(
        () => assert.fail('a query on a closed port succeeded'),
        (e: unknown) => e,
      );
      const status = classify(err);
      assert.equal(status.code, Status.UNAVAILABLE);
      assert.match(status.message, /^Database unavailable: /);
      assert.doesNotMatch(status.message, /hunter2|127\.0\.0\.1|postgres/);
    } finally {
      await db.$disconnect();
    }
  });

  test('other database errors are not outages: a unique violation stays for the handler (INTERNAL if unhandled)', async () => {
    await withClient('sqlite', async (db) => {
      await db.coin.create({ data: { symbol: 'BTC', name: 'Bitcoin' } });
      const err = await db.coin.create({ data: { symbol: 'BTC', name: 'Bitcoin' } }).then(
        () => assert.fail('duplicate accepted'),
        (e: unknown) => e,
      );
      assert.equal(classify(err).code, Status.INTERNAL);
    });
  });
});
