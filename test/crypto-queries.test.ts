// ListWallets is not N+1: its number of SQL statements is the same for a user with 2 wallets and
// one with 6, because wallets come with their coin and owner in one query (include), like the
// guide's select_related. Counted on the database handle an in-process server is given.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cryptoClient } from '../apps/crypto/grpc_services/client.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import { closeDb, openDb, type Db } from '../src/db/client.ts';
import { configureLogging } from '../src/log/logger.ts';
import { startServer, type RunningServer } from '../src/server/start.ts';
import { cfg, startCrypto, type CryptoEnv } from './support/crypto-env.ts';

configureLogging({ level: 'silent' });
const ROOT = new URL('..', import.meta.url).pathname;
let app: CryptoEnv;
let running: RunningServer;
let db: Db;
let statements: string[] = [];

before(async () => {
  app = await startCrypto('sqlite');
  // bob gets 6 wallets (BTC, ETH and USDT seeded, three more); carol keeps 0 then gets 2.
  const bob = await app.client('bob');
  for (const s of ['SOL', 'XRP', 'ADA']) await bob.deposit({ symbol: s, amount: '1', idempotencyKey: `q-${s}` });
  const carol = await app.client('carol');
  for (const s of ['BTC', 'ETH']) await carol.deposit({ symbol: s, amount: '1', idempotencyKey: `q-${s}` });
  // The same database, served in-process on a handle whose statements are counted (no monitor:
  // its heartbeat would write through the same client).
  process.env.CFG_SECRET_KEY = String(app.env.CFG_SECRET_KEY);
  const config = resolveConfig(
    {
      grpc: {
        enabledApps: ['crypto'],
        server: { host: '127.0.0.1', port: 0, enableReflection: false, enableHealthCheck: false },
        proto: { autoGenerate: false },
        monitor: { enabled: false },
      },
      logging: { logCalls: false },
    },
    { root: ROOT, env: { DATABASE_URL: app.env.DATABASE_URL } },
  );
  db = await openDb(config, { onQuery: (sql) => statements.push(sql) });
  running = await startServer(config, { db });
});
after(async () => {
  await running?.stop();
  if (db) await closeDb(db);
  await app?.stop();
});

async function countFor(username: string, tokenFor: (u: string) => Promise<string>): Promise<{ wallets: number; queries: number }> {
  const client = cryptoClient(`127.0.0.1:${running.port}`, { token: await tokenFor(username) });
  try {
    await client.listWallets({ pageSize: 0, pageToken: '' }); // warm: the user lookup is cached after this
    statements = [];
    const reply = await client.listWallets({ pageSize: 0, pageToken: '' });
    return { wallets: reply.wallets.length, queries: statements.length };
  } finally {
    client.close();
  }
}

test('ListWallets costs the same number of queries for 2 and for 6 wallets', async () => {
  const token = (u: string) => cfg(['token', '--username', u], app.env);
  const small = await countFor('carol', token);
  const large = await countFor('bob', token);
  assert.equal(small.wallets, 2);
  assert.equal(large.wallets, 6);
  assert.ok(small.queries > 0, 'queries were counted');
  assert.equal(large.queries, small.queries, `2 wallets: ${small.queries} queries, 6 wallets: ${large.queries}`);
});
