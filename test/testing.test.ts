// cfg/testing's startTestServer, as an app author's test uses it: the crypto app on a temp SQLite
// database of its own (the project's migrations applied, its seed run), anonymous and signed-in
// typed clients, a user made by the test; stop() drains the server and removes the database. And
// a server that cannot start leaves nothing behind but the error.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { statusName, type ClientError } from 'cfg-grpc';
import { startTestServer, type TestServer } from 'cfg-grpc/testing';
import { CryptoServiceService } from '../generated/crypto_service.ts';
import { configureLogging } from '../src/log/logger.ts';

configureLogging({ level: 'silent' });
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The status a call was refused with. */
async function refused(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (err) {
    return `${statusName((err as ClientError).code)}: ${(err as ClientError).details}`;
  }
}

describe('startTestServer: the crypto app on a database of its own', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ root: ROOT, apps: ['crypto'], seed: true });
  });
  after(() => server?.stop());

  test('a free loopback port, a temp SQLite file, the seed served to an anonymous client', async () => {
    assert.ok(server.port > 0);
    assert.equal(server.address, `127.0.0.1:${server.port}`);
    assert.match(server.databaseUrl, /^file:.+cfg-test-db-[^/]+\/test\.sqlite3$/);
    assert.deepEqual(server.config.grpc.enabledApps, ['crypto']);
    const { coin } = await server.client(CryptoServiceService).getCoin({ symbol: 'BTC' });
    assert.equal(coin?.name, 'Bitcoin');
  });

  test('a user made by the test: refused anonymously, served with { user }', async () => {
    const dora = await server.user('dora');
    assert.equal(await refused(server.client(CryptoServiceService).getPortfolio({})), 'UNAUTHENTICATED: Authentication required');
    const portfolio = await server.client(CryptoServiceService, { user: dora }).getPortfolio({});
    assert.deepEqual(portfolio.wallets, []);
    const byToken = server.client(CryptoServiceService, { token: server.token(dora.id) });
    const deposit = await byToken.deposit({ symbol: 'BTC', amount: '1.5', idempotencyKey: 'test-1' });
    assert.equal(deposit.wallet?.balance, '1.5');
  });

  test('permissions as cfg createuser gives them; db() sees what the server wrote', async () => {
    const editor = await server.user({ username: 'ed', perm: ['crypto.change_coin'] });
    await server.client(CryptoServiceService, { user: editor }).updateCoinPrice({ symbol: 'ETH', priceUsd: '3000', change24hPercent: '' });
    const db = await server.db();
    const eth = await db.coin.findUniqueOrThrow({ where: { symbol: 'ETH' } });
    assert.equal(eth.priceUnits, 300_000_000_000n);
  });
});

test('stop() drains the server and removes its temp database; calling it twice is fine', async () => {
  const server = await startTestServer({ root: ROOT, apps: ['crypto'] });
  const file = server.databaseUrl.slice('file:'.length);
  const client = server.client(CryptoServiceService);
  assert.equal(await refused(client.getCoin({ symbol: 'BTC' })), 'NOT_FOUND: Coin BTC not found', 'no seed: an empty database');
  assert.ok(existsSync(file));
  await Promise.all([server.stop(), server.stop()]);
  assert.equal(existsSync(file), false);
  assert.match(await refused(server.client(CryptoServiceService, { deadlineMs: 2000 }).getCoin({ symbol: 'BTC' })), /^UNAVAILABLE: /);
});

test("a server that cannot start rejects with cfg's error", async () => {
  await assert.rejects(startTestServer({ root: ROOT, apps: ['nosuchapp'] }), { code: 'E_APP_NOT_FOUND' });
  const tls = { cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' };
  await assert.rejects(startTestServer({ root: ROOT, apps: ['crypto'], config: { grpc: { server: { tls } } } }), {
    code: 'E_TLS_FILE',
    message: /^grpc\.server\.tls\.cert: cannot read \/nonexistent\/cert\.pem: /,
  });
});

test('docs/testing.md shows test/testing-example.test.ts as it is', async () => {
  const doc = readFileSync(join(ROOT, 'docs', 'testing.md'), 'utf8');
  const block = /^```ts\n([\s\S]*?)^```$/m.exec(doc)?.[1];
  assert.equal(block, readFileSync(join(ROOT, 'test', 'testing-example.test.ts'), 'utf8'));
});
