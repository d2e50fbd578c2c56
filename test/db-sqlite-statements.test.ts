// SQLite reuses compiled statements (src/db/statement-cache.ts) and exposes a data version
// (src/db/data-version.ts). Reuse must not change any answer: arguments of one query never leak
// into the next, a schema change is picked up, errors keep their Prisma codes, transactions
// commit and roll back. The data version moves on every commit from any connection, and only then.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { applyMigrations } from '../src/db/apply.ts';
import { createDb, type Db } from '../src/db/client.ts';
import { openDataVersion, type DataVersion } from '../src/db/data-version.ts';
import type { Project } from './fixtures/project.ts';
import { dbProject, testDatabase, type TestDatabase } from './support/db.ts';

let project: Project;
let database: TestDatabase;
let db: Db;
let version: DataVersion;
const file = () => (database.target as { file: string }).file;

before(async () => {
  project = await dbProject();
  database = await testDatabase('sqlite', project.root);
  await applyMigrations(project.root, database.target);
  db = await createDb(database.target);
  version = (await openDataVersion(database.target))!;
});
after(async () => {
  version?.close();
  await db?.$disconnect();
  await project?.remove();
});

test('one statement, many arguments: each query gets its own rows, interleaved or concurrent', async () => {
  for (const symbol of ['AAA', 'BBB', 'CCC']) await db.coin.create({ data: { symbol, name: `coin ${symbol}` } });
  for (let round = 0; round < 3; round++) {
    for (const symbol of ['AAA', 'BBB', 'CCC', 'NONE']) {
      const row = await db.coin.findFirst({ where: { symbol } });
      assert.equal(row?.name, symbol === 'NONE' ? undefined : `coin ${symbol}`);
    }
  }
  const many = await Promise.all(['CCC', 'AAA', 'BBB', 'AAA'].map((symbol) => db.coin.findUnique({ where: { symbol } })));
  assert.deepEqual(
    many.map((c) => c?.symbol),
    ['CCC', 'AAA', 'BBB', 'AAA'],
  );
});

test('a column added after a statement was compiled shows up in the next run', async () => {
  const selectAll = () => db.$queryRawUnsafe<Array<Record<string, unknown>>>(`SELECT * FROM crypto_coin WHERE symbol = 'AAA'`);
  assert.equal('extra' in (await selectAll())[0]!, false);
  const other = new Database(file());
  other.exec(`ALTER TABLE crypto_coin ADD COLUMN extra TEXT NOT NULL DEFAULT 'added'`);
  other.close();
  assert.equal((await selectAll())[0]!.extra, 'added');
});

test('a unique violation on a reused INSERT is still P2002; a rolled-back transaction leaves nothing', async () => {
  for (let i = 0; i < 2; i++) {
    await assert.rejects(db.coin.create({ data: { symbol: 'AAA', name: 'again' } }), (err: { code?: string }) => err.code === 'P2002');
  }
  await assert.rejects(
    db.$transaction(async (tx) => {
      await tx.coin.create({ data: { symbol: 'TXN', name: 'in a transaction' } });
      throw new Error('roll back');
    }),
    /roll back/,
  );
  assert.equal(await db.coin.count({ where: { symbol: 'TXN' } }), 0);
  await db.$transaction(async (tx) => void (await tx.coin.create({ data: { symbol: 'TXN', name: 'committed' } })));
  assert.equal((await db.coin.findUnique({ where: { symbol: 'TXN' } }))?.name, 'committed');
});

test('the data version moves on every commit (this process or another connection), and not on reads', async () => {
  const start = version.read();
  await db.coin.findMany();
  assert.equal(version.read(), start, 'a read commits nothing');
  await db.coin.update({ where: { symbol: 'BBB' }, data: { name: 'renamed' } });
  const afterOwn = version.read();
  assert.notEqual(afterOwn, start, "the Prisma client's own commit");
  const other = new Database(file());
  other.prepare(`UPDATE crypto_coin SET name = 'again' WHERE symbol = 'BBB'`).run();
  other.close();
  assert.notEqual(version.read(), afterOwn, "another connection's commit");
  assert.equal(await openDataVersion({ provider: 'postgresql', connectionString: 'postgresql://unused', schema: 'public' }), undefined);
});
