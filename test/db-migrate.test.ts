// `cfg migrate` and `cfg makemigrations` on SQLite and on PostgreSQL: from empty, idempotent,
// schema edits become SQL that migrate applies, and a broken migration changes nothing.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type { Project } from './fixtures/project.ts';
import { committedMigrations, dbProject, PROVIDERS, testDatabase, type TestDatabase } from './support/db.ts';

const MODEL_TABLES = [
  'auth_group',
  'auth_group_permissions',
  'auth_permission',
  'auth_user',
  'auth_user_groups',
  'auth_user_user_permissions',
  'cfg_event',
  'crypto_coin',
  'crypto_transfer',
  'crypto_wallet',
  'grpc_api_key',
  'grpc_request_log',
  'grpc_server',
];

/** A temp project and a fresh database for one test; both removed after it. */
async function withDatabase(
  provider: (typeof PROVIDERS)[number],
  fn: (p: Project, db: TestDatabase, env: NodeJS.ProcessEnv) => Promise<void>,
) {
  const project = await dbProject();
  const db = await testDatabase(provider, project.root);
  try {
    await fn(project, db, { DATABASE_URL: db.url });
  } finally {
    await db.drop();
    await project.remove();
  }
}

for (const provider of PROVIDERS) {
  describe(`migrate on ${provider}`, () => {
    test('migrate from empty creates every table and records each migration as Prisma does; again changes nothing', async () => {
      await withDatabase(provider, async (project, db, env) => {
        const first = await project.run(['migrate'], env);
        assert.equal(first.code, 0, first.stderr);
        const committed = committedMigrations(provider);
        for (const name of committed) assert.match(first.stdout, new RegExp(`applied ${name}`));
        assert.deepEqual(
          (await db.tables()).filter((t) => t !== '_prisma_migrations'),
          MODEL_TABLES,
        );

        const rows = await db.query(
          'SELECT "migration_name", "checksum", "finished_at", "applied_steps_count" FROM "_prisma_migrations" ORDER BY "migration_name"',
        );
        assert.deepEqual(
          rows.map((r) => r.migration_name),
          committed,
        );
        for (const row of rows) {
          const sql = await readFile(project.path('prisma', 'migrations', provider, String(row.migration_name), 'migration.sql'));
          assert.equal(row.checksum, createHash('sha256').update(sql).digest('hex'));
          assert.notEqual(row.finished_at, null);
          assert.equal(row.applied_steps_count, '1');
        }

        const second = await project.run(['migrate'], env);
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stdout, /No migrations to apply/);
        assert.equal((await db.query('SELECT COUNT(*) AS n FROM "_prisma_migrations"'))[0]!.n, String(committed.length));

        const status = await project.run(['migrate', '--status'], env);
        assert.equal(status.code, 0, status.stderr);
        for (const name of committed) assert.match(status.stdout, new RegExp(`applied +${name}`));
        assert.doesNotMatch(status.stdout, /pending/);
      });
    });

    test('migrate --status lists pending migrations and changes nothing', async () => {
      await withDatabase(provider, async (project, db, env) => {
        const status = await project.run(['migrate', '--status'], env);
        assert.equal(status.code, 0, status.stderr);
        for (const name of committedMigrations(provider)) assert.match(status.stdout, new RegExp(`pending +${name}`));
        assert.deepEqual(await db.tables(), [], 'not even the bookkeeping table is created');
      });
    });

    test('a broken migration stops with its file and the database error, and leaves the database as it was', async () => {
      await withDatabase(provider, async (project, db, env) => {
        const dir = project.path('prisma', 'migrations', provider, '29990101000000_broken');
        await mkdir(dir);
        await writeFile(
          `${dir}/migration.sql`,
          'CREATE TABLE "half_done" ("id" INTEGER NOT NULL);\nINSERT INTO "half_done" ("id") VALUES (1);\nALTER TABLE "crypto_coin" ADD COLUMN "rank" INTEGER;\nINSERT INTO "no_such_table" ("id") VALUES (1);\n',
        );
        const run = await project.run(['migrate'], env);
        assert.equal(run.code, 1, run.stdout);
        assert.match(
          run.stderr,
          new RegExp(`prisma/migrations/${provider}/29990101000000_broken/migration\\.sql failed and was rolled back`),
        );
        assert.match(run.stderr, /no_such_table/);
        assert.match(run.stderr, /E_MIGRATION/);

        // The migrations before it are applied; nothing of the broken one is.
        const tables = await db.tables();
        assert.ok(tables.includes('crypto_coin'));
        assert.ok(!tables.includes('half_done'), 'the broken migration left a table behind');
        const columns =
          provider === 'sqlite'
            ? await db.query(`SELECT name FROM pragma_table_info('crypto_coin')`)
            : await db.query(
                `SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'crypto_coin' AND table_schema = current_schema()`,
              );
        assert.ok(!columns.some((c) => c.name === 'rank'), 'the broken migration left a column behind');
        const names = (await db.query('SELECT "migration_name" FROM "_prisma_migrations" ORDER BY "migration_name"')).map(
          (r) => r.migration_name,
        );
        assert.deepEqual(names, committedMigrations(provider));

        // Fixed, it applies.
        await writeFile(`${dir}/migration.sql`, 'CREATE TABLE "half_done" ("id" INTEGER NOT NULL);\n');
        const again = await project.run(['migrate'], env);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /applied 29990101000000_broken/);
        assert.ok((await db.tables()).includes('half_done'));
      });
    });

    test('makemigrations after a schema edit writes the SQL that migrate then applies, keeping existing rows', async () => {
      await withDatabase(provider, async (project, db, env) => {
        assert.equal((await project.run(['migrate'], env)).code, 0);
        await db.query(
          `INSERT INTO "crypto_coin" ("symbol", "name", "priceUnits", "updatedAt") VALUES ('BTC', 'Bitcoin', 6425012000000, CURRENT_TIMESTAMP)`,
        );
        await db.query(`INSERT INTO "auth_user" ("username") VALUES ('alice')`);
        await db.query(
          `INSERT INTO "crypto_wallet" ("userId", "coinId", "balanceUnits", "updatedAt") VALUES (1, 1, 150000000, CURRENT_TIMESTAMP)`,
        );

        // A new column, changed defaults (SQLite redefines those tables; rows referencing them stay) and a new model.
        const schemaFile = project.path('prisma', 'schema.prisma');
        const schema = await readFile(schemaFile, 'utf8');
        const edited = schema
          .replace(
            /( {2}isActive\s+Boolean\s+@default\(true\)\n {2}createdAt\s+DateTime\s+@default\(now\(\)\)\n {2}updatedAt\s+DateTime\s+@updatedAt\n {2}wallets)/,
            '  rank Int?\n$1',
          )
          .replace(/change24hBps(\s+)Int(\s+)@default\(0\)/, 'change24hBps$1Int$2@default(7)')
          // auth_user is redefined too: its wallets (ON DELETE CASCADE) must survive the copy-drop-rename.
          .replace(/email(\s+)String(\s+)@default\(""\)/, 'email$1String$2@default("none")')
          .concat(
            '\nmodel Watch {\n  id     Int    @id @default(autoincrement())\n  symbol String @unique\n\n  @@map("crypto_watch")\n}\n',
          );
        assert.notEqual(edited, schema);
        assert.match(edited, /rank Int\?/);
        await writeFile(schemaFile, edited);

        const made = await project.run(['makemigrations', '--name', 'coin_rank'], env);
        assert.equal(made.code, 0, made.stderr);
        for (const p of PROVIDERS) {
          const folders = (await readdir(project.path('prisma', 'migrations', p))).filter((f) => f.endsWith('_coin_rank'));
          assert.equal(folders.length, 1, `${p}: ${made.stdout}`);
          const sql = await readFile(project.path('prisma', 'migrations', p, folders[0]!, 'migration.sql'), 'utf8');
          assert.match(sql, /"rank" INTEGER/);
          assert.match(sql, /CREATE TABLE "crypto_watch"/);
          assert.match(made.stdout, new RegExp(`wrote prisma/migrations/${p}/${folders[0]}/migration\\.sql`));
        }

        const applied = await project.run(['migrate'], env);
        assert.equal(applied.code, 0, applied.stderr);
        assert.match(applied.stdout, /applied \d{14}_coin_rank/);
        assert.ok((await db.tables()).includes('crypto_watch'));
        const [coin] = await db.query('SELECT "symbol", "priceUnits", "rank" FROM "crypto_coin"');
        assert.deepEqual(coin, { symbol: 'BTC', priceUnits: '6425012000000', rank: null });
        assert.deepEqual(await db.query('SELECT "userId", "coinId", "balanceUnits" FROM "crypto_wallet"'), [
          { userId: '1', coinId: '1', balanceUnits: '150000000' },
        ]);
        assert.equal((await db.query('SELECT "username" FROM "auth_user"'))[0]!.username, 'alice');
        await db.query(`INSERT INTO "crypto_coin" ("symbol", "name", "updatedAt") VALUES ('ETH', 'Ethereum', CURRENT_TIMESTAMP)`);
        assert.equal((await db.query(`SELECT "change24hBps" FROM "crypto_coin" WHERE "symbol" = 'ETH'`))[0]!.change24hBps, '7');

        // Nothing changed since: no new migration.
        const again = await project.run(['makemigrations', '--name', 'nothing'], env);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, new RegExp(`${provider}: no changes detected`));
        for (const p of PROVIDERS) assert.ok(!(await readdir(project.path('prisma', 'migrations', p))).some((f) => f.endsWith('_nothing')));
      });
    });
  });
}

describe('makemigrations', () => {
  test('rejects a name that is not letters, digits and underscores, writing nothing', async () => {
    const project = await dbProject();
    try {
      const run = await project.run(['makemigrations', '--name', 'bad name!'], { DATABASE_URL: 'file:./var/x.sqlite3' });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /must be letters, digits and underscores/);
      assert.equal((await readdir(project.path('prisma', 'migrations', 'sqlite'))).length, committedMigrations('sqlite').length + 1); // + migration_lock.toml
    } finally {
      await project.remove();
    }
  });
});
