// The database is a handle passed in, not a process singleton: two servers in one process, each
// on its own SQLite file, each serve their own data through every path that reads or writes
// (services' this.db, the coin cache's data version, the ledger's writer, auth's API key lookup,
// the monitor's grpc_server row), and stopping one leaves the other serving. A handle given to
// startServer is used as it is and left open for its owner.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cryptoClient, type CryptoClient } from '../apps/crypto/grpc_services/client.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { upsertUser } from '../src/auth/manage.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import type { CfgConfig } from '../src/config/types.ts';
import { applyMigrations } from '../src/db/apply.ts';
import { closeDb, createDb, dbTarget, getDataVersion, type Db } from '../src/db/client.ts';
import { parseDatabaseUrl } from '../src/db/url.ts';
import { configureLogging } from '../src/log/logger.ts';
import { startServer, type RunningServer } from '../src/server/start.ts';
import { callError } from './fixtures/client.ts';
import { REPO } from './fixtures/project.ts';

configureLogging({ level: 'silent' });
const SECRET = 'test-secret-key-for-db-handles';

/** One project database: its own SQLite file, migrated, with one coin and one user of its own. */
interface Side {
  name: string;
  file: string;
  config: CfgConfig;
  /** The test's own handle on the file (setup and reading back). */
  db: Db;
  coin: string;
  user: string;
  key: string;
  running?: RunningServer;
  client?: CryptoClient;
}

const dir = mkdtempSync(join(tmpdir(), 'cfg-db-handle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function side(name: string, coin: string, user: string): Promise<Side> {
  const file = join(dir, `${name}.sqlite3`);
  const url = `file:${file}`;
  await applyMigrations(REPO, parseDatabaseUrl(url, REPO));
  const db = await createDb(parseDatabaseUrl(url, REPO));
  await db.coin.create({ data: { symbol: coin, name: `${name} coin`, priceUnits: 100_000_000n } });
  const { user: row } = await upsertUser(db, { username: user });
  const { key } = await createApiKey(db, { userId: row.id, name: `${name} key` });
  const config = resolveConfig(
    {
      grpc: {
        enabledApps: ['crypto'],
        server: { host: '127.0.0.1', port: 0, enableReflection: false },
        proto: { autoGenerate: false },
        auth: { jwtSecretKey: SECRET },
        monitor: { enabled: true },
      },
      logging: { logCalls: false },
    },
    { root: REPO, env: { DATABASE_URL: url } },
  );
  return { name, file, config, db, coin, user, key };
}

describe('two servers in one process, each on its own database', () => {
  let a: Side;
  let b: Side;
  before(async () => {
    a = await side('alpha', 'AAA', 'ann');
    b = await side('beta', 'BBB', 'ben');
    for (const s of [a, b]) {
      s.running = await startServer(s.config);
      s.client = cryptoClient(`127.0.0.1:${s.running.port}`, { metadata: { 'x-api-key': s.key } });
    }
  });
  after(async () => {
    for (const s of [a, b]) {
      s?.client?.close();
      await s?.running?.stop();
      if (s) await closeDb(s.db);
    }
  });

  test("each server's handle is on its own file", () => {
    assert.notEqual(a.running!.db, b.running!.db);
    assert.deepEqual(dbTarget(a.running!.db), { provider: 'sqlite', file: a.file });
    assert.deepEqual(dbTarget(b.running!.db), { provider: 'sqlite', file: b.file });
  });

  test('services read their own database: GetCoin (through the coin cache, twice) and ListCoins', async () => {
    for (const [s, other] of [
      [a, b],
      [b, a],
    ] as const) {
      for (let i = 0; i < 2; i++) assert.equal((await s.client!.getCoin({ symbol: s.coin })).coin?.name, `${s.name} coin`);
      const missing = await callError(s.client!.getCoin({ symbol: other.coin }));
      assert.deepEqual([missing.code, missing.details], [status.NOT_FOUND, `Coin ${other.coin} not found`]);
      const listed = await s.client!.listCoins({ pageSize: 0, pageToken: '', sort: 0, includeInactive: true });
      assert.deepEqual(
        listed.coins.map((c) => c.symbol),
        [s.coin],
      );
    }
  });

  test("the coin cache follows its own database's commits", async () => {
    await a.db.coin.update({ where: { symbol: a.coin }, data: { name: 'alpha renamed' } });
    assert.equal((await a.client!.getCoin({ symbol: a.coin })).coin?.name, 'alpha renamed');
    assert.equal((await b.client!.getCoin({ symbol: b.coin })).coin?.name, 'beta coin');
  });

  test("auth looks API keys up in its own server's database", async () => {
    for (const [s, other] of [
      [a, b],
      [b, a],
    ] as const) {
      assert.deepEqual((await s.client!.listWallets({ pageSize: 0, pageToken: '' })).wallets, [], `${s.user}'s key on its own server`);
      const stranger = cryptoClient(`127.0.0.1:${s.running!.port}`, { metadata: { 'x-api-key': other.key } });
      try {
        const refused = await callError(stranger.listWallets({ pageSize: 0, pageToken: '' }));
        assert.deepEqual([refused.code, refused.details], [status.UNAUTHENTICATED, 'Invalid API key']);
      } finally {
        stranger.close();
      }
    }
  });

  test('money moves through the ledger of its own database', async () => {
    for (const s of [a, b]) {
      const reply = await s.client!.deposit({ symbol: s.coin, amount: '2.5', idempotencyKey: `handle-${s.name}` });
      assert.equal(reply.wallet?.balance, '2.5');
    }
    for (const s of [a, b]) {
      const wallets = await s.db.wallet.findMany({ include: { coin: true, user: true } });
      assert.deepEqual(
        wallets.map((w) => [w.user.username, w.coin.symbol, w.balanceUnits]),
        [[s.user, s.coin, 250_000_000n]],
      );
    }
  });

  test('each monitor records its server in its own grpc_server', async () => {
    for (const s of [a, b]) {
      let ids: string[] = [];
      for (let i = 0; i < 200 && ids.length === 0; i++) {
        ids = (await s.db.serverInstance.findMany({ select: { id: true } })).map((r) => r.id);
        if (ids.length === 0) await new Promise((r) => setTimeout(r, 25));
      }
      assert.deepEqual(ids, [s.running!.serverId]);
    }
  });

  test('stopping one server closes its handle only: the other keeps serving', async () => {
    assert.ok(getDataVersion(a.running!.db), "the coin cache opened the handle's data version");
    await a.running!.stop();
    assert.throws(() => getDataVersion(a.running!.db), /handle is closed/, 'the stopped server closed the handle it opened');
    assert.equal((await b.client!.getCoin({ symbol: b.coin })).coin?.symbol, b.coin);
    assert.equal(await b.running!.db.coin.count(), 1);
  });
});

describe('startServer({ db })', () => {
  test('serves the handle it is given, and leaves it open on stop', async () => {
    const s = await side('given', 'GIV', 'gil');
    try {
      const running = await startServer(s.config, { db: s.db });
      const client = cryptoClient(`127.0.0.1:${running.port}`);
      try {
        assert.equal(running.db, s.db);
        assert.equal((await client.getCoin({ symbol: 'GIV' })).coin?.name, 'given coin');
      } finally {
        client.close();
        await running.stop();
      }
      assert.equal(await s.db.coin.count(), 1, "the owner's handle is still open");
    } finally {
      await closeDb(s.db);
    }
  });
});
