// ListWallets is not N+1: its number of SQL statements is the same for a user with 2 wallets and
// one with 6, because wallets come with their coin and owner in one query (include), like the
// guide's select_related. Counted on the shared Prisma client of an in-process server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from 'cfg-grpc/testing';
import { CryptoServiceService } from '../generated/crypto_service.ts';
import { closeDb, setQueryListener } from '../src/db/client.ts';
import { configureLogging } from '../src/log/logger.ts';
import { startCrypto, type CryptoEnv } from './support/crypto-env.ts';

configureLogging({ level: 'silent' });
const ROOT = new URL('..', import.meta.url).pathname;
let app: CryptoEnv;
let server: TestServer;
let statements: string[] = [];

before(async () => {
  app = await startCrypto('sqlite');
  // bob gets 6 wallets; carol keeps 0 then gets 2.
  const bob = await app.client('bob');
  for (const s of ['SOL', 'XRP', 'ADA', 'DOGE']) await bob.deposit({ symbol: s, amount: '1', idempotencyKey: `q-${s}` });
  const carol = await app.client('carol');
  for (const s of ['BTC', 'ETH']) await carol.deposit({ symbol: s, amount: '1', idempotencyKey: `q-${s}` });
  // The same database, served in-process so the shared client's statements can be counted
  // (startTestServer runs no monitor: its heartbeat would write through the same client).
  setQueryListener((sql) => statements.push(sql));
  server = await startTestServer({ root: ROOT, apps: ['crypto'], database: app.env.DATABASE_URL, config: { grpc: { server: { enableReflection: false, enableHealthCheck: false } } } });
});
after(async () => {
  setQueryListener(undefined);
  await server?.stop();
  await closeDb();
  await app?.stop();
});

async function countFor(username: string, tokenFor: (u: string) => Promise<string>): Promise<{ wallets: number; queries: number }> {
  const client = server.client(CryptoServiceService, { token: await tokenFor(username) });
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
  // Tokens for the server's own secret, minted as cfg token mints them.
  const token = async (u: string) => server.token((await server.user(u)).id);
  const small = await countFor('carol', token);
  const large = await countFor('bob', token);
  assert.equal(small.wallets, 2);
  assert.equal(large.wallets, 6);
  assert.ok(small.queries > 0, 'queries were counted');
  assert.equal(large.queries, small.queries, `2 wallets: ${small.queries} queries, 6 wallets: ${large.queries}`);
});
