// test/testing-example.test.ts: the crypto app tested through cfg-grpc/testing, as docs/testing.md shows it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Status } from 'cfg-grpc';
import { startTestServer, type TestServer } from 'cfg-grpc/testing';
import { CryptoServiceService } from '../generated/crypto_service.ts';

let server: TestServer;

before(async () => {
  // The crypto app alone, on a new SQLite file with the migrations applied and apps/crypto/seed.ts run.
  server = await startTestServer({ root: fileURLToPath(new URL('..', import.meta.url)), apps: ['crypto'], seed: true });
});

after(() => server.stop());

test('GetCoin is public: an anonymous client reads the seeded BTC', async () => {
  const { coin } = await server.client(CryptoServiceService).getCoin({ symbol: 'BTC' });
  assert.equal(coin?.name, 'Bitcoin');
});

test('Deposit needs a signed-in user, and lands in their portfolio', async () => {
  const anonymous = server.client(CryptoServiceService);
  await assert.rejects(anonymous.deposit({ symbol: 'BTC', amount: '1', idempotencyKey: 'k1' }), { code: Status.UNAUTHENTICATED });
  const dora = server.client(CryptoServiceService, { user: await server.user('dora') });
  await dora.deposit({ symbol: 'BTC', amount: '0.25', idempotencyKey: 'k2' });
  const { wallets } = await dora.getPortfolio({});
  assert.deepEqual(
    wallets.map((w) => [w.coin?.symbol, w.balance]),
    [['BTC', '0.25']],
  );
});

test('DeleteCoin needs the crypto.delete_coin permission', async () => {
  const frank = server.client(CryptoServiceService, { user: await server.user('frank') });
  await assert.rejects(frank.deleteCoin({ symbol: 'DOGE' }), { code: Status.PERMISSION_DENIED });
  const erin = server.client(CryptoServiceService, { user: await server.user({ username: 'erin', perm: ['crypto.delete_coin'] }) });
  await erin.deleteCoin({ symbol: 'DOGE' });
});
