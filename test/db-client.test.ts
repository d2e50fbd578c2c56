// The Prisma client cfg gives apps: the same code reads and writes through the better-sqlite3
// and pg adapters, queries can be counted, openDb() makes a handle of its own each time (getDb(),
// the scripts' default, one per process), and a database outage (with the error mapper that
// startServer registers) reaches gRPC clients as UNAVAILABLE without the URL or password, while contention (a busy
// SQLite, a lock wait timeout, a deadlock) is retryable and is no outage.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveConfig } from '../src/config/resolve.ts';
import { applyMigrations } from '../src/db/apply.ts';
import Database from 'better-sqlite3';
import pg from 'pg';
import { closeDb, createDb, getDataVersion, getDb, openDb, sqlDriver, type Db } from '../src/db/client.ts';
import { mapDatabaseError, onDatabaseOutage } from '../src/db/errors.ts';
import { parseDatabaseUrl } from '../src/db/url.ts';
import { Status } from '../src/call/error.ts';
import { classify, registerErrorMapper } from '../src/call/boundary.ts';
import { closedPort, dbProject, PROVIDERS, testDatabase, withMigratedDb } from './support/db.ts';

// As startServer does: database errors are mapped by the call core's boundary (classify).
registerErrorMapper(mapDatabaseError);

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
        const coin = await db.coin.create({
          data: { symbol: 'BTC', name: 'Bitcoin', priceUnits: 6_425_012_000_000n, marketCapCents: big },
        });
        const user = await db.user.create({
          data: { username: 'alice', wallets: { create: { coinId: coin.id, balanceUnits: 150_000_000n } } },
        });

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
            await tx.wallet.update({
              where: { userId_coinId: { userId: user.id, coinId: coin.id } },
              data: { balanceUnits: { decrement: 50_000_000n } },
            });
            throw new Error('insufficient funds elsewhere');
          }),
          /insufficient funds elsewhere/,
        );
        assert.equal((await db.wallet.findFirstOrThrow()).balanceUnits, 150_000_000n);
        await db.$transaction(async (tx) => {
          await tx.wallet.update({
            where: { userId_coinId: { userId: user.id, coinId: coin.id } },
            data: { balanceUnits: { decrement: 50_000_000n } },
          });
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

describe('handles', () => {
  test('openDb(config) opens a handle of its own each time; closeDb(db) closes that one only, with its data version', async () => {
    const project = await dbProject();
    const database = await testDatabase('sqlite', project.root);
    const config = resolveConfig({ database: { url: 'file:./var/test.sqlite3' } }, { root: project.root, env: {} });
    const opened: Db[] = [];
    try {
      await applyMigrations(project.root, database.target);
      const a = await openDb(config);
      const b = await openDb(config);
      opened.push(a, b);
      assert.notEqual(a, b);
      assert.equal(a.provider, 'sqlite');
      const version = getDataVersion(a)!;
      assert.equal(getDataVersion(a), version, 'one data version per handle');
      const before = version.read();
      await a.user.create({ data: { username: 'carol' } });
      assert.deepEqual(await database.query('SELECT "username" FROM "auth_user"'), [{ username: 'carol' }]);
      assert.notEqual(version.read(), before, 'the data version saw the commit');
      await closeDb(a);
      await closeDb(a); // twice is fine
      assert.throws(() => version.read(), /not open/, "closeDb closed the handle's data version connection");
      assert.equal(await b.user.count(), 1, 'the other handle still works');
    } finally {
      for (const db of opened) await closeDb(db);
      await database.drop();
      await project.remove();
    }
  });

  test("getDb(), the scripts' default: one handle per process, from the given config, until closeDb() is given it", async () => {
    const project = await dbProject();
    const database = await testDatabase('sqlite', project.root);
    let last: Db | undefined;
    try {
      await applyMigrations(project.root, database.target);
      const config = resolveConfig({ database: { url: 'file:./var/test.sqlite3' } }, { root: project.root, env: {} });
      const a = (last = await getDb(config));
      assert.equal(await getDb(), a, 'getDb() without a config returns the same handle');
      assert.equal(a.provider, 'sqlite');
      await a.user.create({ data: { username: 'carol' } });
      assert.deepEqual(await database.query('SELECT "username" FROM "auth_user"'), [{ username: 'carol' }]);
      await closeDb(a);
      const b = (last = await getDb(config));
      assert.notEqual(b, a);
      assert.equal(await b.user.count(), 1);
    } finally {
      if (last) await closeDb(last);
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

describe('contention is not an outage', () => {
  /** classify(err), and whether it reported a database outage (which turns health NOT_SERVING). */
  const classified = (err: unknown) => {
    let outage = false;
    const stop = onDatabaseOutage(() => (outage = true));
    try {
      const { code, message } = classify(err);
      return { code, message, outage };
    } finally {
      stop();
    }
  };

  test('SQLite busy with another writer (a Prisma write past its lock wait): UNAVAILABLE "Database busy", not an outage; the wait is short', async () => {
    await withClient('sqlite', async (db) => {
      await db.coin.count();
      const driver = sqlDriver(db);
      assert.equal(driver.provider, 'sqlite');
      const other = new Database(driver.provider === 'sqlite' ? driver.file : '');
      other.exec('BEGIN IMMEDIATE');
      try {
        const started = performance.now();
        const err = await db.coin.create({ data: { symbol: 'BUSY', name: 'Busy' } }).then(
          () => assert.fail('a write succeeded while another connection held the lock'),
          (e: unknown) => e,
        );
        const waited = performance.now() - started;
        assert.deepEqual(classified(err), {
          code: Status.UNAVAILABLE,
          message: 'Database busy: the database is busy with another writer; nothing was applied, retry',
          outage: false,
        });
        // better-sqlite3 waits synchronously (the event loop stands still): 100 ms, not its default 5 s.
        assert.ok(waited < 2_000, `the write waited ${waited.toFixed(0)} ms for the lock`);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
    });
  });

  test('PostgreSQL lock wait timeout and deadlock: ABORTED "Database busy", not an outage', async () => {
    const database = await testDatabase('postgresql', process.cwd());
    const { connectionString, schema } = database.target as { connectionString: string; schema: string };
    const a = new pg.Client({ connectionString, options: `-c search_path=${schema}` });
    const b = new pg.Client({ connectionString, options: `-c search_path=${schema}` });
    try {
      await database.query(`CREATE SCHEMA ${schema}`);
      await Promise.all([a.connect(), b.connect()]);
      await a.query('CREATE TABLE t (id INT PRIMARY KEY, v INT); INSERT INTO t VALUES (1, 0), (2, 0)');
      // A lock held by another transaction past lock_timeout.
      await a.query('BEGIN; UPDATE t SET v = 1 WHERE id = 1');
      const timeout = await b.query("SET lock_timeout = '50ms'; UPDATE t SET v = 2 WHERE id = 1").then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.deepEqual(classified(timeout), {
        code: Status.ABORTED,
        message: 'Database busy: timed out waiting for a lock held by a concurrent transaction; nothing was applied, retry',
        outage: false,
      });
      await b.query('SET lock_timeout = 0');
      // Two transactions taking the same two rows in opposite orders: PostgreSQL breaks the cycle.
      await b.query('BEGIN; UPDATE t SET v = 2 WHERE id = 2');
      const first = a.query('UPDATE t SET v = 1 WHERE id = 2').then(
        () => undefined,
        (e: unknown) => e,
      );
      const second = b.query('UPDATE t SET v = 2 WHERE id = 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      const deadlock = (await Promise.all([first, second])).find((e) => e !== undefined);
      assert.deepEqual(classified(deadlock), {
        code: Status.ABORTED,
        message: 'Database busy: the transaction conflicted with a concurrent one (deadlock); nothing was applied, retry',
        outage: false,
      });
    } finally {
      await a.end().catch(() => {});
      await b.end().catch(() => {});
      await database.drop();
    }
  });
});
