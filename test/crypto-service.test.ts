// The crypto app end to end, on SQLite and on PostgreSQL: every RPC's success path and error
// statuses, through the app's typed client against a real `cfg rungrpc` on a migrated and seeded
// database; money checked in the database itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { callError } from './fixtures/client.ts';
import { CoinSort } from '../generated/crypto_service.ts';
import { startCrypto, type CryptoEnv, type Provider } from './support/crypto-env.ts';

const fails = callError;

for (const provider of ['sqlite', 'postgresql'] as Provider[]) {
  describe(`crypto app on ${provider}`, () => {
    let app: CryptoEnv;
    const totals = async () => (await app.query('SELECT COUNT(*) AS n, SUM("balanceUnits") AS total FROM crypto_wallet'))[0]!;
    /** Each user's balance in `symbol`, in units. */
    const balances = async (symbol: string) =>
      new Map(
        (
          await app.query(
            `SELECT u.username, w."balanceUnits" AS b FROM crypto_wallet w JOIN auth_user u ON u.id = w."userId" JOIN crypto_coin c ON c.id = w."coinId" WHERE c.symbol = '${symbol}'`,
          )
        ).map((r) => [String(r.username), BigInt(String(r.b))] as const),
      );
    before(async () => {
      // PostgreSQL: a database of its own, so that its deadlock and rollback counters see this suite alone.
      app = await startCrypto(provider, {}, { ownDatabase: provider === 'postgresql' });
    });
    after(async () => {
      await app?.stop();
    });

    test('GetCoin: public; empty symbol INVALID_ARGUMENT; unknown NOT_FOUND', async () => {
      const anon = await app.client();
      const reply = await anon.getCoin({ symbol: 'BTC' });
      assert.equal(reply.success, true);
      assert.equal(reply.coin?.symbol, 'BTC');
      assert.match(reply.coin!.priceUsd, /^\d+(\.\d{1,8})?$/);
      assert.ok(reply.coin!.createdAt instanceof Date);
      assert.equal((await anon.getCoin({ symbol: 'btc' })).coin?.symbol, 'BTC');
      let err = await fails(anon.getCoin({ symbol: '' }));
      assert.deepEqual([err.code, err.details], [status.INVALID_ARGUMENT, 'Symbol is required']);
      err = await fails(anon.getCoin({ symbol: 'XYZ' }));
      assert.deepEqual([err.code, err.details], [status.NOT_FOUND, 'Coin XYZ not found']);
      err = await fails(anon.getCoin({ symbol: 'X'.repeat(1_000_000) }));
      assert.equal(err.code, status.INVALID_ARGUMENT);
      err = await fails(anon.getCoin({ symbol: 'B\u0301TC\u200d' }));
      assert.equal(err.code, status.INVALID_ARGUMENT);
    });

    test('ListCoins: pages cover every coin once; sort; bad enum and bad token are INVALID_ARGUMENT', async () => {
      const anon = await app.client();
      const seen: string[] = [];
      let token = '';
      let pages = 0;
      do {
        const page = await anon.listCoins({ pageSize: 2, pageToken: token, sort: CoinSort.COIN_SORT_SYMBOL, includeInactive: false });
        assert.ok(page.coins.length <= 2);
        seen.push(...page.coins.map((c) => c.symbol));
        token = page.nextPageToken;
        pages++;
        assert.ok(pages < 50);
      } while (token);
      const all = await anon.listCoins({ pageSize: 100, pageToken: '', sort: CoinSort.COIN_SORT_SYMBOL, includeInactive: false });
      assert.deepEqual(
        seen,
        all.coins.map((c) => c.symbol),
      );
      assert.deepEqual(seen, [...seen].sort());
      assert.equal(all.totalCount, seen.length);
      assert.ok(seen.includes('BTC') && seen.includes('ETH'));
      const byCap = await anon.listCoins({ pageSize: 0, pageToken: '', sort: CoinSort.COIN_SORT_UNSPECIFIED, includeInactive: false });
      const caps = byCap.coins.map((c) => Number(c.marketCapUsd));
      assert.deepEqual(
        caps,
        [...caps].sort((a, b) => b - a),
      );
      assert.equal(
        (await fails(anon.listCoins({ pageSize: 10, pageToken: '', sort: 99 as CoinSort, includeInactive: false }))).code,
        status.INVALID_ARGUMENT,
      );
      assert.equal(
        (await fails(anon.listCoins({ pageSize: 10, pageToken: 'garbage', sort: 0, includeInactive: false }))).code,
        status.INVALID_ARGUMENT,
      );
      assert.equal(
        (await fails(anon.listCoins({ pageSize: 1000, pageToken: '', sort: 0, includeInactive: false }))).code,
        status.INVALID_ARGUMENT,
      );
    });

    test('SearchCoins, GetTopCoins, GetTrendingCoins, GetMarketStats', async () => {
      const anon = await app.client();
      const found = await anon.searchCoins({ query: 'bitco', pageSize: 0, pageToken: '' });
      assert.ok(
        found.coins.some((c) => c.symbol === 'BTC'),
        'case-insensitive name search',
      );
      assert.ok((await anon.searchCoins({ query: 'eth', pageSize: 0, pageToken: '' })).coins.some((c) => c.symbol === 'ETH'));
      assert.equal((await fails(anon.searchCoins({ query: ' ', pageSize: 0, pageToken: '' }))).code, status.INVALID_ARGUMENT);
      const top = await anon.getTopCoins({ limit: 2 });
      assert.equal(top.coins.length, 2);
      assert.equal(top.coins[0]!.symbol, 'BTC');
      const trending = await anon.getTrendingCoins({ limit: 3 });
      const moves = trending.coins.map((c) => Math.abs(Number(c.change24hPercent)));
      assert.deepEqual(
        moves,
        [...moves].sort((a, b) => b - a),
      );
      const stats = await anon.getMarketStats({});
      const coins = (await anon.listCoins({ pageSize: 100, pageToken: '', sort: 0, includeInactive: false })).coins;
      const capCents = coins.reduce((s, c) => s + BigInt(Math.round(Number(c.marketCapUsd) * 100)), 0n);
      assert.equal(BigInt(Math.round(Number(stats.totalMarketCapUsd) * 100)), capCents);
      assert.equal(stats.activeCoins, coins.length);
      assert.ok(stats.topGainer && stats.topLoser);
    });

    test('CreateCoin (staff or crypto.add_coin) and UpdateCoinPrice (staff or crypto.change_coin): token required', async () => {
      const req = { symbol: 'TST', name: 'Test Coin', priceUsd: '1.25', marketCapUsd: '1000.50', volume24hUsd: '10' };
      assert.equal((await fails((await app.client()).createCoin(req))).code, status.UNAUTHENTICATED);
      assert.equal((await fails((await app.client('carol')).createCoin(req))).code, status.PERMISSION_DENIED);
      const created = await (await app.client('editor')).createCoin(req);
      assert.deepEqual([created.coin?.symbol, created.coin?.priceUsd, created.coin?.marketCapUsd], ['TST', '1.25', '1000.5']);
      assert.equal((await fails((await app.client('admin')).createCoin(req))).code, status.ALREADY_EXISTS);
      assert.equal(
        (await fails((await app.client('editor')).createCoin({ ...req, symbol: 'BAD', priceUsd: '-1' }))).code,
        status.INVALID_ARGUMENT,
      );
      assert.equal(
        (await fails((await app.client('editor')).createCoin({ ...req, symbol: 'BAD', priceUsd: '0.123456789' }))).code,
        status.INVALID_ARGUMENT,
      );
      const updated = await (await app.client('admin')).updateCoinPrice({ symbol: 'TST', priceUsd: '2.5', change24hPercent: '100' });
      assert.equal(updated.coin?.priceUsd, '2.5');
      assert.equal(updated.coin?.change24hPercent, '100');
      assert.equal(
        (await fails((await app.client('carol')).updateCoinPrice({ symbol: 'TST', priceUsd: '3', change24hPercent: '' }))).code,
        status.PERMISSION_DENIED,
      );
      assert.equal(
        (await fails((await app.client('admin')).updateCoinPrice({ symbol: 'NOPE', priceUsd: '3', change24hPercent: '' }))).code,
        status.NOT_FOUND,
      );
    });

    test('DeleteCoin: crypto.delete_coin; the coin disappears, its rows stay', async () => {
      await (await app.client('editor')).createCoin({ symbol: 'DEL', name: 'Doomed', priceUsd: '1', marketCapUsd: '', volume24hUsd: '' });
      assert.equal((await fails((await app.client('editor')).deleteCoin({ symbol: 'DEL' }))).code, status.PERMISSION_DENIED);
      assert.equal((await fails((await app.client()).deleteCoin({ symbol: 'DEL' }))).code, status.UNAUTHENTICATED);
      assert.equal((await (await app.client('admin')).deleteCoin({ symbol: 'DEL' })).success, true);
      assert.equal((await fails((await app.client()).getCoin({ symbol: 'DEL' }))).code, status.NOT_FOUND);
      assert.equal((await fails((await app.client('admin')).deleteCoin({ symbol: 'DEL' }))).code, status.NOT_FOUND);
      assert.equal((await app.query(`SELECT COUNT(*) AS n FROM crypto_coin WHERE symbol = 'DEL'`))[0]!.n, '1');
    });

    test("GetWallet, ListWallets, GetPortfolio: the caller's own, a token required", async () => {
      assert.equal((await fails((await app.client()).getWallet({ symbol: 'BTC' }))).code, status.UNAUTHENTICATED);
      const alice = await app.client('alice');
      const wallet = (await alice.getWallet({ symbol: 'BTC' })).wallet!;
      assert.equal(wallet.username, 'alice');
      assert.equal(wallet.coin?.symbol, 'BTC');
      assert.match(wallet.balance, /^\d+(\.\d+)?$/);
      assert.equal((await fails((await app.client('carol')).getWallet({ symbol: 'BTC' }))).code, status.NOT_FOUND);
      const list = await alice.listWallets({ pageSize: 0, pageToken: '' });
      assert.ok(list.wallets.length >= 2);
      assert.ok(list.wallets.every((w) => w.username === 'alice'));
      assert.equal(list.totalCount, list.wallets.length);
      const portfolio = await alice.getPortfolio({});
      const sum = portfolio.wallets.reduce((s, w) => s + Number(w.valueUsd), 0);
      assert.ok(Math.abs(sum - Number(portfolio.totalValueUsd)) < 0.01);
    });

    test('Transfer: applied once per idempotency key; bad values change nothing', async () => {
      const alice = await app.client('alice');
      const before = await totals();
      const bobBefore = (await (await app.client('bob')).getWallet({ symbol: 'BTC' })).wallet!.balance;
      const req = { toUsername: 'bob', symbol: 'BTC', amount: '0.1', idempotencyKey: `t-${provider}-1` };
      const first = await alice.transfer(req);
      assert.equal(first.replayed, false);
      assert.equal(first.transfer?.amount, '0.1');
      assert.equal(first.transfer?.toUsername, 'bob');
      const again = await alice.transfer(req);
      assert.equal(again.replayed, true);
      assert.equal(again.transfer?.id, first.transfer?.id);
      const bobAfter = (await (await app.client('bob')).getWallet({ symbol: 'BTC' })).wallet!.balance;
      assert.equal(Math.round((Number(bobAfter) - Number(bobBefore)) * 1e8), 1e7, 'applied exactly once');
      assert.equal((await fails(alice.transfer({ ...req, amount: '0.2' }))).code, status.ALREADY_EXISTS);
      const bad: Array<[Partial<typeof req>, number]> = [
        [{ amount: '-1' }, status.INVALID_ARGUMENT],
        [{ amount: '0' }, status.INVALID_ARGUMENT],
        [{ amount: 'abc' }, status.INVALID_ARGUMENT],
        [{ amount: '0.000000001' }, status.INVALID_ARGUMENT],
        [{ amount: '1e3' }, status.INVALID_ARGUMENT],
        [{ toUsername: 'alice' }, status.INVALID_ARGUMENT],
        [{ toUsername: 'nobody' }, status.NOT_FOUND],
        [{ symbol: 'XYZ' }, status.NOT_FOUND],
        [{ idempotencyKey: '' }, status.INVALID_ARGUMENT],
        [{ amount: '1000000' }, status.FAILED_PRECONDITION],
      ];
      for (const [change, code] of bad) {
        const err = await fails(alice.transfer({ ...req, idempotencyKey: `bad-${Math.random()}`, ...change }));
        assert.equal(err.code, code, `${JSON.stringify(change)}: ${err.details}`);
      }
      assert.deepEqual(await totals(), before, 'money is conserved and no wallet was added');
      assert.equal(
        (await fails((await app.client('carol')).transfer({ ...req, idempotencyKey: 'carol-1' }))).code,
        status.FAILED_PRECONDITION,
      );
      assert.equal((await fails((await app.client()).transfer(req))).code, status.UNAUTHENTICATED);
    });

    test('200 concurrent transfers both ways and in cycles among three users: every one OK, each applied once, balances exact', async () => {
      const users = ['alice', 'bob', 'admin'];
      const clients = await Promise.all(users.map((u) => app.client(u)));
      const before = await balances('ETH');
      // Even i: from -> from + 1; odd i: from -> from - 1 (mod 3): every direction at once, and cycles.
      const sends = Array.from({ length: 200 }, (_, i) => ({
        from: users[i % 3]!,
        to: users[(i + 1 + (i % 2)) % 3]!,
        key: `c-${provider}-${i}`,
      }));
      const results = await Promise.allSettled(
        sends.map((s, i) =>
          clients[i % 3]!.transfer({ toUsername: s.to, symbol: 'ETH', amount: '0.01', idempotencyKey: s.key }, { deadline: 30_000 }),
        ),
      );
      // No wallet can run short (each user sends at most 0.67 ETH), so every call must succeed.
      results.forEach((r, i) => {
        const err = r.status === 'rejected' ? (r.reason as ServiceError) : undefined;
        assert.equal(r.status, 'fulfilled', `transfer ${i}: ${err?.code} ${err?.details}`);
        assert.equal((r as PromiseFulfilledResult<{ replayed: boolean }>).value.replayed, false);
      });
      const expected = new Map(before);
      for (const s of sends) {
        expected.set(s.from, expected.get(s.from)! - 1_000_000n);
        expected.set(s.to, expected.get(s.to)! + 1_000_000n);
      }
      assert.deepEqual(await balances('ETH'), expected, 'each transfer moved 0.01 ETH exactly once');
      const ledger = await app.query(
        `SELECT t."idempotencyKey" AS key, fu.username AS "from", tu.username AS "to", t."amountUnits" AS amount FROM crypto_transfer t
         JOIN crypto_wallet fw ON fw.id = t."fromWalletId" JOIN auth_user fu ON fu.id = fw."userId"
         JOIN crypto_wallet tw ON tw.id = t."toWalletId" JOIN auth_user tu ON tu.id = tw."userId"
         WHERE t."idempotencyKey" LIKE 'c-${provider}-%' ORDER BY t."idempotencyKey"`,
      );
      assert.deepEqual(
        ledger,
        sends.map((s) => ({ key: s.key, from: s.from, to: s.to, amount: '1000000' })).sort((a, b) => (a.key < b.key ? -1 : 1)),
        'one ledger row per call, with its wallets and amount',
      );
      const negative = await app.query('SELECT COUNT(*) AS n FROM crypto_wallet WHERE "balanceUnits" < 0');
      assert.equal(negative[0]!.n, '0');
    });

    test('one idempotency key sent 20 times at once, half of them with another amount: applied once; the rest replay it or are ALREADY_EXISTS', async () => {
      const alice = await app.client('alice');
      const before = await balances('SOL');
      const key = `same-${provider}`;
      const amounts = Array.from({ length: 20 }, (_, i) => (i % 2 ? '0.5' : '0.25'));
      const results = await Promise.allSettled(
        amounts.map((amount) => alice.transfer({ toUsername: 'bob', symbol: 'SOL', amount, idempotencyKey: key })),
      );
      const ok = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ amount: amounts[i]!, reply: r.value }] : []));
      const winner = ok[0]?.amount;
      assert.ok(winner, 'at least one call succeeded');
      results.forEach((r, i) => {
        if (amounts[i] === winner)
          assert.equal(r.status, 'fulfilled', `call ${i} (the applied request) failed: ${(r as PromiseRejectedResult).reason?.details}`);
        else assert.equal((r as PromiseRejectedResult).reason?.code, status.ALREADY_EXISTS, `call ${i} with the other amount`);
      });
      assert.equal(ok.filter((o) => !o.reply.replayed).length, 1, 'exactly one call applied it; the others replayed it');
      assert.equal(new Set(ok.map((o) => o.reply.transfer?.id)).size, 1, 'every success names the same ledger row');
      const units = BigInt(Math.round(Number(winner) * 1e8));
      assert.equal((await balances('SOL')).get('alice'), before.get('alice')! - units);
      assert.equal((await balances('SOL')).get('bob'), (before.get('bob') ?? 0n) + units);
      assert.equal((await app.query(`SELECT COUNT(*) AS n FROM crypto_transfer WHERE "idempotencyKey" = '${key}'`))[0]!.n, '1');
    });

    test('Deposit and Withdraw: idempotent, never below zero', async () => {
      const carol = await app.client('carol');
      const dep = await carol.deposit({ symbol: 'SOL', amount: '5.5', idempotencyKey: 'd1' });
      assert.equal(dep.wallet?.balance, '5.5');
      assert.equal((await carol.deposit({ symbol: 'SOL', amount: '5.5', idempotencyKey: 'd1' })).replayed, true);
      assert.equal((await carol.getWallet({ symbol: 'SOL' })).wallet?.balance, '5.5');
      assert.equal((await fails(carol.withdraw({ symbol: 'SOL', amount: '6', idempotencyKey: 'w1' }))).code, status.FAILED_PRECONDITION);
      const w = await carol.withdraw({ symbol: 'SOL', amount: '5.5', idempotencyKey: 'w2' });
      assert.equal(w.wallet?.balance, '0');
      assert.equal(w.transfer?.kind, 'withdraw');
    });

    test('WatchPrices receives a price written after it subscribed, and cleans up on cancel', async () => {
      const anon = await app.client();
      const controller = new AbortController();
      const stream = anon.watchPrices({ symbols: ['ETH'] }, { signal: controller.signal });
      const it = stream[Symbol.asyncIterator]();
      const snapshot = await it.next();
      assert.equal(snapshot.value?.symbol, 'ETH', 'the current price comes first');
      await (await app.client('admin')).updateCoinPrice({ symbol: 'ETH', priceUsd: '4321.5', change24hPercent: '1.5' });
      const update = await it.next();
      assert.deepEqual([update.value?.symbol, update.value?.priceUsd, update.value?.change24hPercent], ['ETH', '4321.5', '1.5']);
      controller.abort();
      await it.return?.();
    });

    if (provider === 'postgresql') {
      test('PostgreSQL counted no deadlock and no rolled-back transaction over the whole suite (runs last: stops the server)', async () => {
        await app.stopServer();
        assert.deepEqual(await app.counters(), { deadlocks: 0, rollbacks: 0 });
      });
    }
  });
}
