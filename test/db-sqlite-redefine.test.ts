// SQLite cannot alter most columns, so Prisma's SQL redefines the table (copy, drop, rename).
// With foreign keys on, that drop would fire ON DELETE CASCADE on every row pointing at the table;
// cfg migrate turns them off around each migration and checks them before commit instead.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { applyMigrations } from '../src/db/apply.ts';
import { makeMigrations } from '../src/db/makemigrations.ts';
import { dbProject, testDatabase } from './support/db.ts';

const ROWS = [
  `INSERT INTO "auth_user" ("username") VALUES ('alice')`,
  `INSERT INTO "auth_permission" ("app", "codename") VALUES ('crypto', 'view_coin')`,
  `INSERT INTO "auth_user_user_permissions" ("userId", "permissionId") VALUES (1, 1)`,
  `INSERT INTO "crypto_coin" ("symbol", "name", "updatedAt") VALUES ('BTC', 'Bitcoin', CURRENT_TIMESTAMP)`,
  `INSERT INTO "crypto_wallet" ("userId", "coinId", "balanceUnits", "updatedAt") VALUES (1, 1, 150000000, CURRENT_TIMESTAMP)`,
  `INSERT INTO "grpc_api_key" ("name", "prefix", "keyHash", "userId") VALUES ('ci', 'abc', 'hash', 1)`,
];

async function counts(query: (sql: string) => Promise<Array<Record<string, unknown>>>) {
  const out: Record<string, unknown> = {};
  for (const table of ['auth_user', 'auth_user_user_permissions', 'crypto_coin', 'crypto_wallet', 'grpc_api_key']) {
    out[table] = (await query(`SELECT COUNT(*) AS n FROM "${table}"`))[0]!.n;
  }
  return out;
}

describe('migrate on SQLite, tables referenced by others', () => {
  test('redefining auth_user keeps the wallets, API keys and permissions that cascade from it', async () => {
    const project = await dbProject();
    const database = await testDatabase('sqlite', project.root);
    try {
      await applyMigrations(project.root, database.target);
      for (const sql of ROWS) await database.query(sql);
      const before = await counts(database.query);
      assert.deepEqual(Object.values(before), ['1', '1', '1', '1', '1']);

      // email: String @default("") -> String? can only be done by redefining the table on SQLite.
      const file = project.path('prisma', 'schema.prisma');
      const schema = await readFile(file, 'utf8');
      const edited = schema.replace(/(\n {2}email\s+)String(\s+)@default\(""\)/, '$1String?$2');
      assert.notEqual(edited, schema);
      await writeFile(file, edited);
      const [made] = await makeMigrations(project.root, 'optional_email');
      assert.equal(made!.provider, 'sqlite');
      assert.match(made!.sql, /DROP TABLE "auth_user"/);

      assert.deepEqual(await applyMigrations(project.root, database.target), [made!.name]);
      assert.deepEqual(await counts(database.query), before);
      assert.deepEqual(await database.query(`SELECT "notnull" FROM pragma_table_info('auth_user') WHERE "name" = 'email'`), [
        { notnull: '0' },
      ]);
    } finally {
      await database.drop();
      await project.remove();
    }
  });

  test('a migration that leaves rows pointing nowhere fails its foreign key check and is rolled back', async () => {
    const project = await dbProject();
    const database = await testDatabase('sqlite', project.root);
    try {
      await applyMigrations(project.root, database.target);
      for (const sql of ROWS) await database.query(sql);
      const before = await counts(database.query);
      const dir = project.path('prisma', 'migrations', 'sqlite', '29990101000000_orphans');
      await mkdir(dir);
      await writeFile(`${dir}/migration.sql`, 'DELETE FROM "crypto_coin";\nCREATE TABLE "half_done" ("id" INTEGER NOT NULL);\n');
      await assert.rejects(applyMigrations(project.root, database.target), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'E_MIGRATION');
        assert.match(
          err.message,
          /29990101000000_orphans\/migration\.sql failed and was rolled back: FOREIGN KEY constraint failed: 1 row\(s\) of crypto_wallet point at missing crypto_coin rows/,
        );
        return true;
      });
      assert.deepEqual(await counts(database.query), before);
      assert.ok(!(await database.tables()).includes('half_done'));
    } finally {
      await database.drop();
      await project.remove();
    }
  });
});
