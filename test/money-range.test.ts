// Money stays an exact integer within 64 bits on SQLite and PostgreSQL (issue 21, item 3): at the
// boundary, every write (Deposit, Transfer, Withdraw, CreateCoin, UpdateCoinPrice) either lands
// exactly or is refused with a precise status and changes nothing, and nothing out of range ever
// reaches the database (PostgreSQL counts no failed statement). The database's own guard is in
// money-range-db.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { formatDecimal, parseDecimal } from '../apps/crypto/grpc_services/money.ts';
import { callError } from './fixtures/client.ts';
import { startCrypto, type CryptoEnv, type Provider } from './support/crypto-env.ts';

/** 2^63 - 1 units: the most a balance, amount, price or cap can be. */
const MAX = 9223372036854775807n;
const MAX_UNITS = '92233720368.54775807';
const MAX_CENTS = '92233720368547758.07';

for (const provider of ['sqlite', 'postgresql'] as Provider[]) {
  describe(`money at the 64-bit boundary on ${provider}`, () => {
    let app: CryptoEnv;
    before(async () => {
      app = await startCrypto(provider, {}, { ownDatabase: provider === 'postgresql' });
    });
    after(async () => {
      await app?.stop();
    });
    const balance = async (user: string, symbol: string) => {
      const rows = await app.query(
        `SELECT w."balanceUnits" AS b ${provider === 'sqlite' ? ', typeof(w."balanceUnits") AS t' : ''} FROM crypto_wallet w JOIN auth_user u ON u.id = w."userId" JOIN crypto_coin c ON c.id = w."coinId" WHERE u.username = '${user}' AND c.symbol = '${symbol}'`,
      );
      if (rows.length === 0) return undefined;
      if (provider === 'sqlite') assert.equal(rows[0]!.t, 'integer', `${user}'s ${symbol} balance is stored as ${rows[0]!.t}`);
      return BigInt(String(rows[0]!.b));
    };
    const ledgerRows = async (key: string) =>
      Number((await app.query(`SELECT COUNT(*) AS n FROM crypto_transfer WHERE "idempotencyKey" = '${key}'`))[0]!.n);

    test('Deposit: the three 90,000,000,000 DOGE deposits of the report: the first lands exactly, the others are OUT_OF_RANGE and change nothing', async () => {
      const carol = await app.client('carol');
      assert.equal(
        (await carol.deposit({ symbol: 'DOGE', amount: '90000000000', idempotencyKey: 'big-1' })).wallet?.balance,
        '90000000000',
      );
      for (const key of ['big-2', 'big-3']) {
        const err = await callError(carol.deposit({ symbol: 'DOGE', amount: '90000000000', idempotencyKey: key }));
        assert.equal(err.code, status.OUT_OF_RANGE, err.details);
        assert.match(err.details, /Your DOGE balance would exceed 92233720368\.54775807/);
        assert.equal(await ledgerRows(key), 0);
      }
      assert.equal(await balance('carol', 'DOGE'), 9_000_000_000_000_000_000n);
      // Small deposits and withdrawals still move it exactly (they did nothing once it was REAL).
      await carol.deposit({ symbol: 'DOGE', amount: '0.00000001', idempotencyKey: 'small-1' });
      await carol.withdraw({ symbol: 'DOGE', amount: '0.00000002', idempotencyKey: 'small-2' });
      assert.equal(await balance('carol', 'DOGE'), 9_000_000_000_000_000_000n - 1n);
    });

    test('Deposit up to exactly 2^63 - 1 units lands; one unit more is OUT_OF_RANGE; an amount past it is INVALID_ARGUMENT', async () => {
      const editor = await app.client('editor');
      assert.equal((await editor.deposit({ symbol: 'ADA', amount: MAX_UNITS, idempotencyKey: 'max' })).wallet?.balance, MAX_UNITS);
      assert.equal(await balance('editor', 'ADA'), MAX);
      let err = await callError(editor.deposit({ symbol: 'ADA', amount: '0.00000001', idempotencyKey: 'max+1' }));
      assert.equal(err.code, status.OUT_OF_RANGE, err.details);
      err = await callError(editor.deposit({ symbol: 'XRP', amount: '92233720368.54775808', idempotencyKey: 'too-big' }));
      assert.deepEqual([err.code, err.details], [status.INVALID_ARGUMENT, `amount must be at most ${MAX_UNITS}`]);
      assert.equal(await balance('editor', 'XRP'), undefined, 'no wallet was made');
      assert.equal(await balance('editor', 'ADA'), MAX);
      assert.equal(
        (await app.query(`SELECT COUNT(*) AS n FROM crypto_transfer WHERE "idempotencyKey" IN ('max+1', 'too-big')`))[0]!.n,
        '0',
      );
      // The wallet's value is exact too: (2^63 - 1) units x the price, in BigInt.
      const wallet = (await editor.getWallet({ symbol: 'ADA' })).wallet!;
      assert.equal(wallet.balance, MAX_UNITS);
      const price = parseDecimal(wallet.coin!.priceUsd, 8) as bigint;
      assert.equal(wallet.valueUsd, formatDecimal((MAX * price) / 10n ** 8n, 8));
    });

    test('Transfer to a full wallet is OUT_OF_RANGE and moves nothing; Withdraw of all of it lands; one unit more is FAILED_PRECONDITION', async () => {
      const alice = await app.client('alice');
      const aliceBefore = await balance('alice', 'ETH');
      const editor = await app.client('editor');
      await editor.deposit({ symbol: 'ETH', amount: MAX_UNITS, idempotencyKey: 'fill-eth' });
      const err = await callError(
        alice.transfer({ toUsername: 'editor', symbol: 'ETH', amount: '0.00000001', idempotencyKey: 'overflow' }),
      );
      assert.equal(err.code, status.OUT_OF_RANGE, err.details);
      assert.match(err.details, /editor's ETH balance would exceed/);
      assert.equal(await balance('alice', 'ETH'), aliceBefore, "the sender's balance did not move");
      assert.equal(await balance('editor', 'ETH'), MAX);
      assert.equal(await ledgerRows('overflow'), 0);
      assert.equal((await editor.withdraw({ symbol: 'ETH', amount: MAX_UNITS, idempotencyKey: 'drain' })).wallet?.balance, '0');
      assert.equal(
        (await callError(editor.withdraw({ symbol: 'ETH', amount: '0.00000001', idempotencyKey: 'below-zero' }))).code,
        status.FAILED_PRECONDITION,
      );
      assert.equal(await balance('editor', 'ETH'), 0n);
    });

    test('CreateCoin and UpdateCoinPrice: a price or cap of exactly 2^63 - 1 units is stored exactly; one more is INVALID_ARGUMENT and nothing is written', async () => {
      const editor = await app.client('editor');
      const created = await editor.createCoin({
        symbol: 'MAXC',
        name: 'Max',
        priceUsd: MAX_UNITS,
        marketCapUsd: MAX_CENTS,
        volume24hUsd: MAX_CENTS,
      });
      assert.deepEqual([created.coin?.priceUsd, created.coin?.marketCapUsd, created.coin?.volume24hUsd], [MAX_UNITS, MAX_CENTS, MAX_CENTS]);
      const coin = (await (await app.client()).getCoin({ symbol: 'MAXC' })).coin!;
      assert.deepEqual([coin.priceUsd, coin.marketCapUsd], [MAX_UNITS, MAX_CENTS]);
      const bad: Array<[Record<string, string>, string]> = [
        [{ priceUsd: '92233720368.54775808' }, `price_usd must be at most ${MAX_UNITS}`],
        [{ marketCapUsd: '92233720368547758.08' }, `market_cap_usd must be at most ${MAX_CENTS}`],
        [{ volume24hUsd: '100000000000000000000' }, `volume_24h_usd must be at most ${MAX_CENTS}`],
      ];
      for (const [change, message] of bad) {
        const err = await callError(
          editor.createCoin({ symbol: 'OVER', name: 'Over', priceUsd: '1', marketCapUsd: '', volume24hUsd: '', ...change }),
        );
        assert.deepEqual([err.code, err.details], [status.INVALID_ARGUMENT, message]);
      }
      assert.equal((await app.query(`SELECT COUNT(*) AS n FROM crypto_coin WHERE symbol = 'OVER'`))[0]!.n, '0');
      const err = await callError(editor.updateCoinPrice({ symbol: 'MAXC', priceUsd: '92233720368.54775808', change24hPercent: '' }));
      assert.deepEqual([err.code, err.details], [status.INVALID_ARGUMENT, `price_usd must be at most ${MAX_UNITS}`]);
      assert.equal(
        (await editor.updateCoinPrice({ symbol: 'MAXC', priceUsd: '0.00000001', change24hPercent: '' })).coin?.priceUsd,
        '0.00000001',
      );
      assert.equal((await editor.updateCoinPrice({ symbol: 'MAXC', priceUsd: MAX_UNITS, change24hPercent: '' })).coin?.priceUsd, MAX_UNITS);
      const stored = await app.query(
        `SELECT "priceUnits" AS p ${provider === 'sqlite' ? ', typeof("priceUnits") AS t' : ''} FROM crypto_coin WHERE symbol = 'MAXC'`,
      );
      assert.equal(stored[0]!.p, String(MAX));
      if (provider === 'sqlite') assert.equal(stored[0]!.t, 'integer');
    });

    if (provider === 'postgresql') {
      test('PostgreSQL counted no deadlock and no failed statement: nothing the app sent was out of range (runs last: stops the server)', async () => {
        await app.stopServer();
        assert.deepEqual(await app.counters(), { deadlocks: 0, rollbacks: 0 });
      });
    }
  });
}
