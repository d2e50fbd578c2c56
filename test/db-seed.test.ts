// `cfg seed` on both databases: each enabled app's seed.ts runs, a second run adds nothing and
// keeps users' changes; a seed.ts without seed(db) is named. (Split from db-setup.test.ts, to keep
// each file well within the per-file timeout.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cryptoProject, PROVIDERS, testDatabase } from './support/db.ts';

for (const provider of PROVIDERS) {
  describe(`cfg seed on ${provider}`, () => {
    test("runs each enabled app's seed.ts; running it again adds nothing and keeps users' changes", async () => {
      const project = await cryptoProject();
      const database = await testDatabase(provider, project.root);
      const env = { DATABASE_URL: database.url };
      try {
        assert.equal((await project.run(['migrate'], env)).code, 0);
        const first = await project.run(['seed'], env);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /seeded: crypto/);

        const snapshot = async () => ({
          coins: (await database.query('SELECT "symbol" FROM "crypto_coin" ORDER BY "symbol"')).map((r) => r.symbol),
          users: await database.query('SELECT "username", "isStaff", "isSuperuser" FROM "auth_user" ORDER BY "username"'),
          permissions: (await database.query('SELECT "app", "codename" FROM "auth_permission" ORDER BY "codename"')).map(
            (r) => `${r.app}.${r.codename}`,
          ),
          wallets: await database.query(
            'SELECT u."username", c."symbol", w."balanceUnits" FROM "crypto_wallet" w JOIN "auth_user" u ON u."id" = w."userId" JOIN "crypto_coin" c ON c."id" = w."coinId" ORDER BY u."username", c."symbol"',
          ),
        });
        const seeded = await snapshot();
        assert.deepEqual(seeded.coins, ['ADA', 'BTC', 'DOGE', 'ETH', 'SOL', 'USDT', 'XRP']);
        // The crypto seed's four, and cfg's own (made by the migration that introduced it).
        assert.deepEqual(seeded.permissions, [
          'crypto.add_coin',
          'crypto.change_coin',
          'crypto.delete_coin',
          'cfg.manage_api_keys',
          'crypto.view_coin',
        ]);
        const truthy = (v: unknown) => v === true || v === '1';
        const admin = seeded.users.find((u) => u.username === 'admin')!;
        assert.ok(truthy(admin.isStaff) && truthy(admin.isSuperuser));
        assert.ok(seeded.users.some((u) => u.username === 'alice') && seeded.users.some((u) => u.username === 'bob'));
        const balance = (user: string, symbol: string) =>
          seeded.wallets.find((w) => w.username === user && w.symbol === symbol)?.balanceUnits;
        assert.equal(balance('alice', 'BTC'), '150000000');
        assert.equal(balance('alice', 'ETH'), '1000000000');
        assert.equal(balance('bob', 'BTC'), '25000000');
        assert.equal(balance('bob', 'ETH'), '300000000');
        assert.equal(balance('alice', 'USDT'), '1000000000000', 'USDT, what trades are paid in');

        // A balance changed since (by a transfer, say) survives a second seed, which adds no rows.
        await database.query(`UPDATE "crypto_wallet" SET "balanceUnits" = 1 WHERE "id" = (SELECT MIN("id") FROM "crypto_wallet")`);
        const before = await snapshot();
        const second = await project.run(['seed'], env);
        assert.equal(second.code, 0, second.stderr);
        assert.deepEqual(await snapshot(), before);
      } finally {
        await database.drop();
        await project.remove();
      }
    });
  });
}

describe('cfg seed errors', () => {
  test('a seed.ts without an exported seed(db) is named in the error', async () => {
    const project = await cryptoProject();
    try {
      await project.write('apps/crypto/seed.ts', 'export const nothing = 1;\n');
      const run = await project.run(['seed'], { DATABASE_URL: 'file:./var/x.sqlite3' });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /apps\/crypto\/seed\.ts has no exported seed\(db\) function/);
    } finally {
      await project.remove();
    }
  });
});
