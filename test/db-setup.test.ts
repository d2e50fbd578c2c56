// `cfg setup` (what `npm install` runs) and `cfg seed`: both Prisma clients generated with the network
// unreachable, migrations and seeds applied on the SQLite default, seeds idempotent on both databases.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { cp, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { configText, REPO, type Project } from './fixtures/project.ts';
import { closedPort, dbProject, PROVIDERS, testDatabase } from './support/db.ts';

const CLI = join(REPO, 'bin', 'cfg.js');

/** A temp project like this repo: prisma/, the crypto proto and seed, cfg.config.ts enabling crypto. */
async function cryptoProject(): Promise<Project> {
  const project = await dbProject();
  await cp(join(REPO, 'proto', 'crypto_service.proto'), project.path('proto', 'crypto_service.proto'));
  await cp(join(REPO, 'apps', 'crypto', 'seed.ts'), project.path('apps', 'crypto', 'seed.ts'));
  await project.write('cfg.config.ts', configText({ grpc: { enabledApps: ['crypto'] } }));
  return project;
}

/**
 * `cfg setup` with no network: in a network namespace of its own where the system allows it
 * (`unshare -n`: not even loopback is up), and always with HTTP(S) proxies on a closed port.
 */
async function setupOffline(project: Project): Promise<{ code: number | null; stdout: string; stderr: string; isolated: boolean }> {
  const proxy = `http://127.0.0.1:${await closedPort()}`;
  const env = { ...process.env, NO_COLOR: '1', HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, ALL_PROXY: proxy, NO_PROXY: '', no_proxy: '', DATABASE_URL: '' };
  const isolated = spawnSync('unshare', ['-n', 'true']).status === 0;
  const [cmd, args] = isolated ? ['unshare', ['-n', process.execPath, CLI, 'setup']] : [process.execPath, [CLI, 'setup']];
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: project.root, env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, isolated }),
    );
  });
}

describe('cfg setup', () => {
  test('with the network unreachable: generates both Prisma clients and the stubs, then migrates and seeds the SQLite default; again changes nothing', async () => {
    const project = await cryptoProject();
    try {
      const run = await setupOffline(project);
      assert.equal(run.code, 0, run.stderr);
      for (const provider of PROVIDERS) {
        const cls = await readFile(project.path('generated', 'prisma', provider, 'internal', 'class.ts'), 'utf8');
        assert.match(cls, new RegExp(`"activeProvider": "${provider}"`));
        assert.ok((await stat(project.path('generated', 'prisma', provider, 'client.ts'))).isFile());
      }
      assert.ok((await stat(project.path('generated', 'crypto_service.ts'))).isFile());
      assert.match(run.stdout, /migration\(s\) applied/);
      assert.match(run.stdout, /seeded: crypto/);

      const file = project.path('var', 'cfg.sqlite3');
      const count = (table: string) => {
        const db = new Database(file, { readonly: true });
        try {
          return (db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n;
        } finally {
          db.close();
        }
      };
      assert.equal(count('crypto_coin'), 6);

      const again = await setupOffline(project);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /0 migration\(s\) applied/);
      assert.equal(count('crypto_coin'), 6);
      assert.equal(count('auth_user'), 3);
    } finally {
      await project.remove();
    }
  });

  test('on PostgreSQL (DATABASE_URL set) it generates but leaves the database to cfg migrate', async () => {
    const project = await cryptoProject();
    const database = await testDatabase('postgresql', project.root);
    try {
      const run = await project.run(['setup'], { DATABASE_URL: database.url }, 120_000);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /run cfg migrate/);
      assert.deepEqual(await database.tables(), []);
    } finally {
      await database.drop();
      await project.remove();
    }
  });
});

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
          permissions: (await database.query('SELECT "app", "codename" FROM "auth_permission" ORDER BY "codename"')).map((r) => `${r.app}.${r.codename}`),
          wallets: await database.query(
            'SELECT u."username", c."symbol", w."balanceUnits" FROM "crypto_wallet" w JOIN "auth_user" u ON u."id" = w."userId" JOIN "crypto_coin" c ON c."id" = w."coinId" ORDER BY u."username", c."symbol"',
          ),
        });
        const seeded = await snapshot();
        assert.deepEqual(seeded.coins, ['ADA', 'BTC', 'DOGE', 'ETH', 'SOL', 'XRP']);
        // The crypto seed's four, and cfg's own (made by the migration that introduced it).
        assert.deepEqual(seeded.permissions, ['crypto.add_coin', 'crypto.change_coin', 'crypto.delete_coin', 'cfg.manage_api_keys', 'crypto.view_coin']);
        const truthy = (v: unknown) => v === true || v === '1';
        const admin = seeded.users.find((u) => u.username === 'admin')!;
        assert.ok(truthy(admin.isStaff) && truthy(admin.isSuperuser));
        assert.ok(seeded.users.some((u) => u.username === 'alice') && seeded.users.some((u) => u.username === 'bob'));
        const balance = (user: string, symbol: string) => seeded.wallets.find((w) => w.username === user && w.symbol === symbol)?.balanceUnits;
        assert.equal(balance('alice', 'BTC'), '150000000');
        assert.equal(balance('alice', 'ETH'), '1000000000');
        assert.equal(balance('bob', 'BTC'), '25000000');
        assert.equal(balance('bob', 'ETH'), '300000000');

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
