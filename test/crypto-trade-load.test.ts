// Trade under load on SQLite and PostgreSQL, against a real `cfg rungrpc`: 50 concurrent streams
// while an ImportPrices feed moves the prices (money exact and conserved: the invariant below), a
// slow reader (every fill arrives; price pushes are dropped, and each drop is counted), and
// SIGTERM mid-stream (UNAVAILABLE with the shutdown message; an order whose answer was lost fills
// once when its id is sent again to another server); PostgreSQL counts no deadlock and no
// rolled-back transaction.
//
// The conservation invariant, for any set of trades however concurrent: each fill is one ledger
// row (kind, coin, quantity q, price p and quote amount as the fill reports them), with quote
// amount = ceil(q * p / 10^8) for a buy and floor(q * p / 10^8) for a sell, p a price the coin
// really had; no row for an order rejected; and for every user u and asset A,
//   balance(u, A) after = balance(u, A) before + sum over u's fills of delta(A),
// where a buy of q of coin C at p has delta(C) = +q and delta(USDT) = -ceil(q p / 10^8), and a
// sell has delta(C) = -q and delta(USDT) = +floor(q p / 10^8). Summed over users: for every asset,
// the total over all wallets changes by exactly the sum of the fills' deltas (nothing is created,
// lost or moved but by fills; USDT is only ever destroyed by a buy's rounding, never created).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import {
  TradeSide,
  type ImportPricesRequest,
  type TradeFill,
  type TradeOrder,
  type TradeRequest,
  type TradeResponse,
} from '../generated/crypto_service.ts';
import { cryptoClient, openTrade } from '../apps/crypto/grpc_services/client.ts';
import { spawnCryptoServer, startCrypto, type CryptoEnv, type Provider } from './support/crypto-env.ts';
import { addUsers } from './support/money.ts';
import { allBalances, buy, quoteUnits, sell, sumsBySymbol, tradeRows, units } from './support/streams.ts';

const STREAMS = 50;
const ORDERS = 16;
const COINS = ['BTC', 'ETH', 'SOL'] as const;

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

for (const provider of ['sqlite', 'postgresql'] as Provider[]) {
  describe(`Trade under load on ${provider}`, () => {
    let app: CryptoEnv;
    before(async () => {
      // A small push queue, so that a slow reader overflows it soon.
      // PostgreSQL: a database of its own, so that its deadlock and rollback counters see this suite alone.
      app = await startCrypto(
        provider,
        { CRYPTO_TRADE_QUEUE: '16', CRYPTO_IMPORT_FLUSH_MS: '20' },
        { ownDatabase: provider === 'postgresql' },
      );
    });
    after(async () => {
      await app?.stop();
    });

    test(`${STREAMS} concurrent Trade streams while the prices move: every order answered once, fills exact to the unit at a price the coin had, balances conserved (the invariant above)`, async () => {
      const names = Array.from({ length: STREAMS }, (_, i) => `trader${i}`);
      await addUsers(app, names, 'USDT', 2_000_000_000_000n); // 20,000 USDT each
      const now = app.provider === 'sqlite' ? `'${new Date().toISOString().replace('Z', '+00:00')}'` : 'CURRENT_TIMESTAMP';
      await app.query(
        `INSERT INTO crypto_wallet ("userId", "coinId", "balanceUnits", "createdAt", "updatedAt")
         SELECT u.id, c.id, 100000000, ${now}, ${now} FROM auth_user u, crypto_coin c WHERE c.symbol = 'ETH' AND u.username LIKE 'trader%'`,
      ); // and 1 ETH
      const admin = await app.client('admin');
      const had = new Map<string, Set<bigint>>(COINS.map((c) => [c, new Set<bigint>()]));
      for (const c of (await admin.listCoins({ pageSize: 100, pageToken: '', sort: 0, includeInactive: false })).coins)
        had.get(c.symbol)?.add(units(c.priceUsd));
      const balancesBefore = await allBalances(app);
      const sumsBefore = await sumsBySymbol(app);

      // The prices move all along: a feed of ticks, 20 ms batches.
      let trading = true;
      const feed = (async () => {
        const ticks = async function* (): AsyncGenerator<ImportPricesRequest> {
          for (let i = 0; trading; i++) {
            const symbol = COINS[i % 3]!;
            const price = { BTC: 60_000, ETH: 3_000, SOL: 150 }[symbol] + (i % 97) + 0.12345678;
            had.get(symbol)!.add(units(price.toFixed(8)));
            yield { symbol, priceUsd: price.toFixed(8), change24hPercent: '' };
            await new Promise((r) => setTimeout(r, 2));
          }
        };
        return admin.importPrices(ticks(), { deadline: 120_000 });
      })();

      // Each stream: ORDERS orders of random side, coin and size (some too big: rejected), placed
      // without waiting (they queue in order), then 3 of its ids sent again.
      const results = await Promise.all(
        names.map(async (name, s) => {
          const next = random(s + 1);
          const session = openTrade(await app.client(name));
          const orders: TradeOrder[] = Array.from({ length: ORDERS }, (_, i) => {
            const coin = COINS[Math.floor(next() * 3)]!;
            const side = next() < 0.6 ? 'buy' : 'sell';
            const quantity = { BTC: 0.05, ETH: 0.8, SOL: 20 }[coin] * next() * (next() < 0.1 ? 40 : 1);
            return (side === 'buy' ? buy : sell)(`L-${s}-${i}`, coin, quantity.toFixed(8));
          });
          const again = [orders[1]!, orders[5]!, orders[9]!];
          const outcomes = await Promise.all([...orders, ...again].map((o) => session.place(o)));
          await session.end();
          return { name, orders: [...orders, ...again], outcomes };
        }),
      );
      trading = false;
      const imported = await feed;
      assert.ok(imported.ticks > 50, `the prices moved during the trading: ${imported.ticks} ticks`);

      const rows = await tradeRows(app, 'L-');
      const expected = new Map(balancesBefore);
      const move = (key: string, delta: bigint) => expected.set(key, (expected.get(key) ?? 0n) + delta);
      const deltas = new Map<string, bigint>();
      let fills = 0;
      let rejections = 0;
      for (const { name, orders, outcomes } of results) {
        // Per id, in the order answered: rejections (nothing applied; a resent id is tried again),
        // then at most one fill, then only replays of that very fill.
        const filled = new Map<string, TradeFill>();
        outcomes.forEach((outcome, i) => {
          const order = orders[i]!;
          const id = order.clientOrderId;
          const earlier = filled.get(id);
          if (outcome.rejection) {
            assert.equal(earlier, undefined, `${name} ${id} was filled, then rejected when sent again (${outcome.rejection.message})`);
            assert.ok(['FAILED_PRECONDITION', 'INVALID_ARGUMENT'].includes(outcome.rejection.code), outcome.rejection.message);
            rejections++;
            return;
          }
          const fill = outcome.fill!;
          if (earlier) {
            assert.equal(fill.replayed, true, `${name} ${id} filled twice`);
            assert.deepEqual(
              { ...fill, replayed: false, balance: '', quoteBalance: '' },
              { ...earlier, balance: '', quoteBalance: '' },
              `${name} ${id} resent: the very fill it had`,
            );
            return;
          }
          assert.equal(fill.replayed, false, `${name} ${id}: a replay of a fill never answered`);
          filled.set(id, fill);
          fills++;
          const [q, p, quote] = [units(fill.quantity), units(fill.priceUsd), units(fill.quoteAmount)];
          assert.equal(q, units(order.quantity));
          assert.ok(had.get(fill.symbol)!.has(p), `${name} ${id} filled at ${fill.priceUsd}, a price ${fill.symbol} never had`);
          assert.equal(quote, quoteUnits(fill.side, q, p), `${name} ${id}: ${fill.quantity} x ${fill.priceUsd}`);
          const sign = fill.side === TradeSide.TRADE_SIDE_BUY ? 1n : -1n;
          move(`${name} ${fill.symbol}`, sign * q);
          move(`${name} USDT`, -sign * quote);
          deltas.set(fill.symbol, (deltas.get(fill.symbol) ?? 0n) + sign * q);
          deltas.set('USDT', (deltas.get('USDT') ?? 0n) - sign * quote);
        });
        for (const order of orders) {
          const fill = filled.get(order.clientOrderId);
          const row = rows.get(`${name} ${order.clientOrderId}`);
          if (!fill) assert.equal(row, undefined, `${name} ${order.clientOrderId} was only rejected, but is in the ledger`);
          else {
            const [q, p, quote] = [units(fill.quantity), units(fill.priceUsd), units(fill.quoteAmount)];
            assert.deepEqual(
              row,
              { kind: fill.side === TradeSide.TRADE_SIDE_BUY ? 'buy' : 'sell', symbol: fill.symbol, amount: q, quote, price: p, rows: 1 },
              `${name} ${order.clientOrderId}: its ledger row`,
            );
          }
        }
        // The last fill of the stream reports the balances the database holds now.
        const last = outcomes.filter((o) => o.fill).at(-1)?.fill;
        if (last) assert.equal(units(last.quoteBalance), expected.get(`${name} USDT`), `${name}'s last fill's USDT balance`);
      }
      assert.equal(rows.size, fills, 'one ledger row per fill, none for a rejection');
      assert.ok(fills > STREAMS * ORDERS * 0.5 && rejections > 0, `${fills} fills, ${rejections} rejections`);
      const balancesAfter = await allBalances(app);
      assert.deepEqual(
        balancesAfter,
        new Map([...expected].filter(([k, v]) => v !== 0n || balancesAfter.has(k))),
        'every balance is the one before plus its fills',
      );
      const sumsAfter = await sumsBySymbol(app);
      for (const [symbol, total] of sumsAfter)
        assert.equal(
          total - (sumsBefore.get(symbol) ?? 0n),
          deltas.get(symbol) ?? 0n,
          `the total of ${symbol} over all wallets moved by the fills' deltas alone`,
        );
      assert.ok(deltas.get('USDT')! !== 0n, 'USDT moved');
      assert.equal((await app.query('SELECT COUNT(*) AS n FROM crypto_wallet WHERE "balanceUnits" < 0'))[0]!.n, '0');
      console.log(`${fills} fills, ${rejections} rejections over ${STREAMS} streams; ${imported.ticks} price ticks meanwhile`);
    });

    test('a slow reader: every fill arrives, in order; price pushes past its queue are dropped, and each delivered push counts those dropped before it', async () => {
      const client = cryptoClient(app.address, {
        token: await app.token('alice'),
        // A 1 KB receive window: the server's writes back up after a few messages, not 64 KB of them.
        channelOptions: { 'grpc-node.flow_control_window': 1024 },
      });
      const requests: TradeRequest[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      const send = (r: TradeRequest) => {
        requests.push(r);
        wake?.();
      };
      const input = (async function* () {
        for (;;) {
          const r = requests.shift();
          if (r) yield r;
          else if (ended) return;
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      })();
      const call = client.trade(input);
      const it = call[Symbol.asyncIterator]();
      const read = async (): Promise<NonNullable<TradeResponse['event']>> => (await it.next()).value.event;

      send({ kind: { $case: 'order', value: buy('slow-0', 'BTC', '0.001') } });
      assert.equal((await read()).$case, 'fill', 'the first fill subscribes the stream to BTC');
      // Not reading now: 10 more orders, and 600 BTC price changes.
      for (let i = 1; i <= 10; i++) send({ kind: { $case: 'order', value: buy(`slow-${i}`, 'BTC', '0.001') } });
      const admin = await app.client('admin');
      const written: string[] = [];
      for (let i = 0; i < 600; i += 20) {
        await Promise.all(
          Array.from({ length: 20 }, async (_, j) => {
            const priceUsd = `${61_000 + i + j}.5`;
            await admin.updateCoinPrice({ symbol: 'BTC', priceUsd, change24hPercent: '' });
          }),
        );
      }
      for (let i = 0; i < 600; i++) written.push(`${61_000 + i}.5`);
      // Reading again: every fill, and the pushes that were kept.
      const fills: TradeFill[] = [];
      const pushes: Array<{ price: string; dropped: number }> = [];
      ended = true;
      wake?.();
      for (;;) {
        const next = await it.next();
        if (next.done) break;
        const event = next.value.event!;
        if (event.$case === 'fill') fills.push(event.value);
        else if (event.$case === 'price') pushes.push({ price: event.value.price!.priceUsd, dropped: event.value.dropped });
        else assert.fail(`unexpected ${event.$case}`);
      }
      client.close();
      assert.deepEqual(
        fills.map((f) => [f.clientOrderId, f.replayed]),
        Array.from({ length: 10 }, (_, i) => [`slow-${i + 1}`, false]),
        'every fill, in order',
      );
      const dropped = pushes.reduce((n, p) => n + p.dropped, 0);
      console.log(`600 price changes: ${pushes.length} pushed, ${dropped} dropped`);
      assert.ok(dropped > 0, 'some pushes were dropped');
      assert.equal(pushes.length + dropped, 600, 'every change was pushed or counted as dropped');
      const order = pushes.map((p) => written.indexOf(p.price));
      assert.ok(
        order.every((i) => i >= 0),
        'each push is a price written',
      );
      assert.equal(
        pushes.at(-1)!.price,
        (await admin.getCoin({ symbol: 'BTC' })).coin!.priceUsd,
        'the newest price is never the one dropped',
      );
    });

    test('SIGTERM mid-stream (a second server on the same data): UNAVAILABLE with the shutdown message, the process exits 0; an order whose answer was lost fills once when sent again elsewhere', async () => {
      const second = await spawnCryptoServer(app.env);
      const token = await app.token('alice');
      const client = cryptoClient(`127.0.0.1:${second.port}`, { token });
      try {
        const session = openTrade(client);
        const ids = Array.from({ length: 300 }, (_, i) => `T-${i}`);
        const outcomes = ids.map((id) => session.place((ids.indexOf(id) % 2 ? sell : buy)(id, 'SOL', '0.01')));
        for (const o of outcomes) o.catch(() => {});
        await outcomes[20];
        const exited = second.stop();
        const err = await session.closed.then(
          () => assert.fail('the stream ended OK'),
          (e: ServiceError) => e,
        );
        assert.equal(err.code, status.UNAVAILABLE);
        assert.match(err.details, /^Server is shutting down: this stream was ended so that it can stop; reconnect/);
        await exited;
        assert.equal(second.child.exitCode, 0, second.stderr());
        const answered = new Map<string, TradeFill>();
        for (const [i, o] of outcomes.entries()) {
          const r = await o.catch(() => undefined);
          if (r?.fill) answered.set(ids[i]!, r.fill);
        }
        assert.ok(answered.size >= 21 && answered.size < 300, `${answered.size} answered before the drain`);
        // Every id again, on the first server: the ones applied come back replayed, the rest fill now.
        const applied = await tradeRows(app, 'T-');
        const resend = openTrade(await app.client('alice'));
        for (const [i, id] of ids.entries()) {
          const fill = (await resend.place((i % 2 ? sell : buy)(id, 'SOL', '0.01'))).fill!;
          assert.equal(fill.replayed, applied.has(`alice ${id}`), id);
          if (answered.has(id)) assert.equal(fill.tradeId, answered.get(id)!.tradeId);
        }
        await resend.end();
        const rows = await tradeRows(app, 'T-');
        assert.equal(rows.size, 300);
        assert.ok(
          [...rows.values()].every((r) => r.rows === 1),
          'each id filled once',
        );
        console.log(`${answered.size} answered before SIGTERM, ${applied.size} applied by then`);
      } finally {
        client.close();
        await second.stop();
      }
    });

    if (provider === 'postgresql') {
      test('PostgreSQL counted no deadlock and no rolled-back transaction over the whole suite (runs last: stops the server)', async () => {
        await app.stopServer();
        assert.deepEqual(await app.counters(), { deadlocks: 0, rollbacks: 0 });
      });
    }
  });
}
