// The database's own guard on money (issue 21, item 3), on SQLite and PostgreSQL: after `cfg
// migrate`, it refuses a REAL, negative or overflowing balance, amount or price whatever writes
// it (CHECK constraints: SQLite would otherwise store a REAL), and migrating a database that
// already holds such a value stops at the money_range migration, naming it, and leaves the
// database as it was.
import assert from 'node:assert/strict';
import { cp, rm } from 'node:fs/promises';
import { test } from 'node:test';
import { applyMigrations } from '../src/db/apply.ts';
import { REPO } from './fixtures/project.ts';
import { committedMigrations, dbProject, PROVIDERS, testDatabase } from './support/db.ts';

for (const provider of PROVIDERS) {
  test(`${provider}: the database refuses what the app would never write: a REAL, negative or overflowing balance, amount, price`, async () => {
    const project = await dbProject();
    const database = await testDatabase(provider, project.root);
    try {
      await applyMigrations(project.root, database.target);
      const now = provider === 'sqlite' ? `'2026-01-01T00:00:00.000+00:00'` : 'CURRENT_TIMESTAMP';
      await database.query(`INSERT INTO "auth_user" ("username") VALUES ('alice')`);
      await database.query(
        `INSERT INTO "crypto_coin" ("symbol", "name", "priceUnits", "updatedAt") VALUES ('DOGE', 'Dogecoin', 13000000, ${now})`,
      );
      await database.query(
        `INSERT INTO "crypto_wallet" ("userId", "coinId", "balanceUnits", "updatedAt") VALUES (1, 1, 9223372036854775807, ${now})`,
      );
      await database.query(
        `INSERT INTO "crypto_transfer" ("kind", "idempotencyKey", "userId", "coinId", "toWalletId", "amountUnits") VALUES ('deposit', 'k', 1, 1, 1, 9223372036854775807)`,
      );
      const statements = [
        `UPDATE crypto_wallet SET "balanceUnits" = -1`,
        `UPDATE crypto_wallet SET "balanceUnits" = "balanceUnits" + 1`,
        `UPDATE crypto_coin SET "priceUnits" = -5`,
        `UPDATE crypto_coin SET "marketCapCents" = -1`,
        `UPDATE crypto_transfer SET "amountUnits" = 0`,
        `UPDATE crypto_transfer SET kind = 'gift'`,
        ...(provider === 'sqlite'
          ? [
              `UPDATE crypto_wallet SET "balanceUnits" = 2.7e19`,
              `UPDATE crypto_wallet SET "balanceUnits" = 1.5`,
              `UPDATE crypto_coin SET "priceUnits" = 'a lot'`,
            ]
          : []),
      ];
      for (const sql of statements) {
        const error = await database.query(sql).then(
          () => undefined,
          (e: Error) => e.message,
        );
        assert.ok(error, `the database accepted: ${sql}`);
        assert.match(error, /CHECK constraint failed|violates check constraint|out of range|integer overflow/, sql);
      }
      const [wallet] = await database.query(
        `SELECT "balanceUnits" AS b ${provider === 'sqlite' ? ', typeof("balanceUnits") AS t' : ''} FROM crypto_wallet`,
      );
      assert.equal(wallet!.b, '9223372036854775807', 'the balance is unchanged');
      if (provider === 'sqlite') assert.equal(wallet!.t, 'integer');
    } finally {
      await database.drop();
      await project.remove();
    }
  });
  test(`migrate on ${provider}: a database already holding a balance out of range stops at money_range, named, and is left as it was`, async () => {
    const project = await dbProject();
    const database = await testDatabase(provider, project.root);
    try {
      const all = committedMigrations(provider);
      const moneyRange = all.find((m) => m.endsWith('_money_range'))!;
      // The migrations before money_range only.
      for (const m of all.filter((m) => m >= moneyRange)) await rm(project.path('prisma', 'migrations', provider, m), { recursive: true });
      const env = { DATABASE_URL: database.url };
      assert.equal((await project.run(['migrate'], env)).code, 0);
      await database.query(`INSERT INTO "auth_user" ("username") VALUES ('alice')`);
      await database.query(`INSERT INTO "crypto_coin" ("symbol", "name", "updatedAt") VALUES ('DOGE', 'Dogecoin', CURRENT_TIMESTAMP)`);
      const bad = provider === 'sqlite' ? '27000000000000000000.0' : '-1';
      await database.query(
        `INSERT INTO "crypto_wallet" ("userId", "coinId", "balanceUnits", "updatedAt") VALUES (1, 1, ${bad}, CURRENT_TIMESTAMP)`,
      );

      await cp(`${REPO}/prisma/migrations/${provider}/${moneyRange}`, project.path('prisma', 'migrations', provider, moneyRange), {
        recursive: true,
      });
      const run = await project.run(['migrate'], env);
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stderr, new RegExp(`${moneyRange}/migration\\.sql failed and was rolled back`));
      assert.match(run.stderr, /crypto_wallet_balanceUnits_check|CHECK constraint failed/);
      const rows = await database.query('SELECT "balanceUnits" AS b FROM "crypto_wallet"');
      assert.equal(rows.length, 1, 'the wallet is still there');
      assert.equal(
        (await database.query(`SELECT COUNT(*) AS n FROM "_prisma_migrations" WHERE "migration_name" = '${moneyRange}'`))[0]!.n,
        '0',
      );
    } finally {
      await database.drop();
      await project.remove();
    }
  });
}
