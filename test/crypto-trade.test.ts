// Trade (bidi) end to end on SQLite and PostgreSQL, through the app's client (openTrade) against a
// real `cfg rungrpc`: fills exact to the unit at the coin's price, replays of an order id,
// rejections that leave the stream open, price pushes and keep-alives, auth refused up front and
// mid-stream, a bad message, a client cancel and a deadline mid-stream (what was filled is in the
// ledger once, and a resent id never fills twice). 50 concurrent streams, a slow reader and
// SIGTERM: crypto-trade-load.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { TradeRequest, TradeResponse, TradeSide, type TradeFill, type TradePriceUpdate } from '../generated/crypto_service.ts';
import { openTrade, type TradeOutcome } from '../apps/crypto/grpc_services/client.ts';
import { callError } from './fixtures/client.ts';
import { startCrypto, type CryptoEnv, type Provider } from './support/crypto-env.ts';
import { addUsers } from './support/money.ts';
import { frame } from './support/raw-grpc.ts';
import { allBalances, buy, quoteUnits, rawOpenStream, sell, tradeRows, units, until } from './support/streams.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fillOf = (outcome: TradeOutcome): TradeFill => {
  assert.ok(outcome.fill, `expected a fill, got ${JSON.stringify(outcome.rejection)}`);
  return outcome.fill;
};

for (const provider of ['sqlite', 'postgresql'] as Provider[]) {
  describe(`Trade on ${provider}`, () => {
    let app: CryptoEnv;
    before(async () => {
      app = await startCrypto(provider, { CRYPTO_TRADE_PING_MS: '300' });
    });
    after(async () => {
      await app?.stop();
    });
    const balance = async (user: string, symbol: string) => (await allBalances(app)).get(`${user} ${symbol}`);

    test('fills: a buy pays quantity x price rounded up, a sell gets it rounded down, exactly; a resent order id answers the same fill, replayed, and moves nothing', async () => {
      const admin = await app.client('admin');
      await admin.updateCoinPrice({ symbol: 'BTC', priceUsd: '64250.12345678', change24hPercent: '' });
      const session = openTrade(await app.client('alice'));
      const before = await allBalances(app);
      const price = units('64250.12345678');

      const bought = fillOf(await session.place(buy('f-1', 'BTC', '0.00000003')));
      const cost = quoteUnits(TradeSide.TRADE_SIDE_BUY, 3n, price);
      assert.equal(cost, 192751n, '3 units x 64250.12345678 = 192750.37... units of USDT, rounded up');
      assert.deepEqual(
        [bought.side, bought.symbol, bought.quantity, bought.priceUsd, bought.quoteSymbol, bought.quoteAmount, bought.replayed],
        [TradeSide.TRADE_SIDE_BUY, 'BTC', '0.00000003', '64250.12345678', 'USDT', '0.00192751', false],
      );
      const sold = fillOf(await session.place(sell('f-2', 'BTC', '0.00000003')));
      assert.equal(quoteUnits(TradeSide.TRADE_SIDE_SELL, 3n, price), 192750n);
      assert.equal(sold.quoteAmount, '0.0019275', 'rounded down');
      const after = await allBalances(app);
      assert.equal(after.get('alice BTC'), before.get('alice BTC')!, 'bought and sold back');
      assert.equal(after.get('alice USDT'), before.get('alice USDT')! - 1n, 'the round trip cost one unit of rounding');
      assert.deepEqual(
        [sold.balance, sold.quoteBalance].map(units),
        [after.get('alice BTC'), after.get('alice USDT')],
        'the balances the fill reports',
      );

      const again = fillOf(await session.place(buy('f-1', 'BTC', '0.00000003', '1')));
      assert.deepEqual(
        { ...again, replayed: false, balance: '', quoteBalance: '' },
        { ...bought, balance: '', quoteBalance: '' },
        'the original fill (its limit price not looked at)',
      );
      assert.equal(again.replayed, true);
      assert.deepEqual(await allBalances(app), after, 'a replay moves nothing');

      const rows = await tradeRows(app, 'f-');
      assert.deepEqual([...rows].sort(), [
        ['alice f-1', { kind: 'buy', symbol: 'BTC', amount: 3n, quote: 192751n, price, rows: 1 }],
        ['alice f-2', { kind: 'sell', symbol: 'BTC', amount: 3n, quote: 192750n, price, rows: 1 }],
      ]);
      assert.ok((await session.ping()) >= 0, 'a ping is answered with its pong');
      await session.end();
    });

    test('rejections: each order refused with its status and message, nothing applied, and the stream goes on', async () => {
      await addUsers(app, ['rita'], 'SOL', 1_000_000_000n); // 10 SOL, no USDT wallet
      const session = openTrade(await app.client('rita'));
      const alice = openTrade(await app.client('alice'));
      await (await app.client('alice')).deposit({ symbol: 'ETH', amount: '0.1', idempotencyKey: 'rej-dep' });
      const before = await allBalances(app);
      const cases: Array<[TradeOutcome | Promise<TradeOutcome>, string, string]> = [
        [session.place(buy('r-1', 'SOL', '1')), 'FAILED_PRECONDITION', 'You have no USDT wallet'],
        [session.place(sell('r-2', 'SOL', '11')), 'FAILED_PRECONDITION', 'Insufficient SOL balance'],
        [session.place(sell('r-3', 'SOL', '1', '1000000')), 'FAILED_PRECONDITION', "The SOL price is below the order's limit of 1000000"],
        [session.place(sell('r-4', 'XYZ', '1')), 'NOT_FOUND', 'Coin XYZ not found'],
        [
          session.place(buy('r-5', 'USDT', '1')),
          'INVALID_ARGUMENT',
          'USDT is what trades are paid in; it cannot be bought or sold for itself',
        ],
        [session.place(sell('r-6', 'SOL', '0')), 'INVALID_ARGUMENT', 'quantity must be greater than zero'],
        [session.place(sell('r-7', 'SOL', '1.000000001')), 'INVALID_ARGUMENT', 'quantity has more than 8 decimal places'],
        [
          session.place({ ...sell('r-8', 'SOL', '1'), side: TradeSide.TRADE_SIDE_UNSPECIFIED }),
          'INVALID_ARGUMENT',
          'side must be TRADE_SIDE_BUY or TRADE_SIDE_SELL (got 0)',
        ],
        [
          session.place(sell('', 'SOL', '1')),
          'INVALID_ARGUMENT',
          'client_order_id is required (a unique string per operation; retries reuse it)',
        ],
        [session.place(sell('r-9', 'ADA', '0.00000001')), 'INVALID_ARGUMENT', "The order's value rounds down to 0 USDT: sell more"],
        [
          alice.place(buy('rej-dep', 'ETH', '0.1')),
          'ALREADY_EXISTS',
          'client_order_id rej-dep was already used for a different order or operation',
        ],
        [alice.place(buy('r-10', 'BTC', '1000000')), 'FAILED_PRECONDITION', 'Insufficient USDT balance'],
        [alice.place(buy('r-11', 'BTC', '0.001', '1')), 'FAILED_PRECONDITION', "The BTC price is above the order's limit of 1"],
      ];
      for (const [outcome, code, message] of cases) {
        const { rejection, fill } = await outcome;
        assert.equal(fill, undefined, `${message}: filled`);
        assert.deepEqual([rejection!.code, rejection!.message], [code, message]);
      }
      assert.deepEqual(await allBalances(app), before, 'nothing applied');
      assert.equal((await tradeRows(app, 'r-')).size, 0, 'no ledger row');
      // Still open: a sale that fits fills, and its USDT wallet is created.
      const fill = fillOf(await session.place(sell('r-ok', 'SOL', '2')));
      assert.equal(await balance('rita', 'SOL'), 800_000_000n);
      assert.equal(await balance('rita', 'USDT'), units(fill.quoteAmount), 'the USDT wallet made by the sale');
      assert.equal(
        fillOf(await alice.place(buy('r-12', 'BTC', '0.001', '100000000'))).replayed,
        false,
        'a limit the price is within fills',
      );
      const replay = fillOf(await session.place(sell('r-ok', 'SOL', '2')));
      assert.equal(replay.replayed, true);
      assert.equal((await session.place(sell('r-ok', 'SOL', '3'))).rejection?.code, 'ALREADY_EXISTS', 'the same id for another order');
      await Promise.all([session.end(), alice.end()]);
    });

    test("pushes: after a fill the stream gets that coin's price changes (UpdateCoinPrice and ImportPrices), no other coin's; a ping after 300 ms of quiet", async () => {
      const prices: TradePriceUpdate[] = [];
      let pings = 0;
      const session = openTrade(await app.client('alice'), { onPrice: (u) => prices.push(u), onPing: () => pings++ });
      const admin = await app.client('admin');
      await admin.updateCoinPrice({ symbol: 'ETH', priceUsd: '3001', change24hPercent: '' });
      fillOf(await session.place(buy('p-1', 'ETH', '0.01')));
      await admin.updateCoinPrice({ symbol: 'BTC', priceUsd: '60001', change24hPercent: '' }); // not traded on this stream
      await admin.updateCoinPrice({ symbol: 'ETH', priceUsd: '3002.5', change24hPercent: '' });
      await admin.importPrices([
        { symbol: 'BTC', priceUsd: '60002', change24hPercent: '' },
        { symbol: 'ETH', priceUsd: '3003', change24hPercent: '2' },
      ]);
      await until(() => prices.length >= 2, 'two ETH pushes');
      assert.deepEqual(
        prices.map((p) => [p.price!.symbol, p.price!.priceUsd, p.dropped]),
        [
          ['ETH', '3002.5', 0],
          ['ETH', '3003', 0],
        ],
      );
      const pingsBefore = pings;
      await sleep(1_000);
      assert.ok(pings - pingsBefore >= 2, `keep-alive pings in 1 s of quiet at a 300 ms interval: ${pings - pingsBefore}`);
      await session.end();
    });

    test('auth: anonymous is refused UNAUTHENTICATED before an order is read; a user deactivated mid-stream ends it UNAUTHENTICATED, never OK, its earlier fill kept', async () => {
      const anonymous = openTrade(await app.client());
      const refused = anonymous.place(buy('a-0', 'BTC', '0.001'));
      assert.equal((await callError(anonymous.closed)).code, status.UNAUTHENTICATED);
      assert.equal((await callError(refused)).code, status.UNAUTHENTICATED);

      await addUsers(app, ['dora'], 'USDT', 100_000_000_000n);
      const session = openTrade(await app.client('dora'));
      fillOf(await session.place(buy('a-1', 'SOL', '1')));
      await app.query(`UPDATE auth_user SET "isActive" = ${provider === 'sqlite' ? 0 : 'false'} WHERE username = 'dora'`);
      const next = session.place(buy('a-2', 'SOL', '1'));
      const err = await callError(session.closed);
      assert.deepEqual([err.code, err.details], [status.UNAUTHENTICATED, 'Your user no longer exists or is inactive']);
      assert.equal((await callError(next)).code, status.UNAUTHENTICATED);
      assert.deepEqual([...(await tradeRows(app, 'a-')).keys()], ['dora a-1']);
    });

    test('a bad message mid-stream: a malformed order is a rejection; a message with neither order nor ping ends the stream INVALID_ARGUMENT, nothing after it read; the call log has the status', async () => {
      const call = (await app.client('alice')).trade([
        { kind: { $case: 'order', value: buy('b-1', 'SOL', '0.5') } },
        { kind: { $case: 'order', value: buy('b-2', 'SOL', 'lots') } },
        { kind: undefined },
        { kind: { $case: 'order', value: buy('b-3', 'SOL', '0.5') } },
      ]);
      const events: string[] = [];
      const err = await (async () => {
        for await (const { event } of call)
          events.push(
            event?.$case === 'rejection'
              ? `rejection ${event.value.message}`
              : `${event?.$case} ${event?.$case === 'fill' ? event.value.clientOrderId : ''}`,
          );
      })().then(
        () => assert.fail('the stream ended OK'),
        (e: ServiceError) => e,
      );
      assert.deepEqual([err.code, err.details], [status.INVALID_ARGUMENT, 'message 2: neither an order nor a ping']);
      assert.deepEqual(events, ['fill b-1', 'rejection quantity must be a decimal number like "12.5" (got "lots")']);
      assert.deepEqual([...(await tradeRows(app, 'b-')).keys()], ['alice b-1']);
      await until(
        () => /"msg":"\/crypto\.CryptoService\/Trade","status":"INVALID_ARGUMENT"[^\n]*"user":"alice"/.test(app.logs()),
        'the call log line',
      );
    });

    test('client cancel mid-stream: the fills received are in the ledger once, the server stops (nothing applied after), and each id sent again fills once', async () => {
      const client = await app.client('alice');
      const session = openTrade(client);
      const ids = Array.from({ length: 200 }, (_, i) => `c-${i}`);
      const outcomes = ids.map((id) => session.place(buy(id, 'ADA', '1')));
      for (const o of outcomes) o.catch(() => {});
      await outcomes[4];
      session.cancel();
      assert.equal((await callError(session.closed)).code, status.CANCELLED);
      const received = new Map<string, TradeFill>();
      for (const [i, o] of outcomes.entries()) {
        const result = await o.then(
          (r) => r,
          () => undefined,
        );
        if (result) received.set(ids[i]!, fillOf(result));
      }
      await sleep(300);
      const rows = await tradeRows(app, 'c-');
      for (const id of received.keys()) assert.equal(rows.get(`alice ${id}`)?.rows, 1, `${id} was received`);
      // The server may have answered more than the client read before cancelling (answers in flight).
      assert.ok(rows.size >= received.size && rows.size < 200, `${rows.size} applied, ${received.size} received`);
      await sleep(300);
      assert.equal((await tradeRows(app, 'c-')).size, rows.size, 'nothing applied after the cancel');
      // Every id again, on a new stream: the applied ones come back as they were, the others fill now.
      const resend = openTrade(client);
      const again = await Promise.all(ids.map((id) => resend.place(buy(id, 'ADA', '1'))));
      again.forEach((outcome, i) => {
        const fill = fillOf(outcome);
        assert.equal(fill.replayed, rows.has(`alice ${ids[i]}`), ids[i]);
        if (received.has(ids[i]!)) assert.equal(fill.tradeId, received.get(ids[i]!)!.tradeId);
      });
      await resend.end();
      const after = await tradeRows(app, 'c-');
      assert.equal(after.size, 200);
      assert.ok(
        [...after.values()].every((r) => r.rows === 1),
        'each id filled once',
      );
    });

    test('server deadline: a client that never cancels (raw HTTP/2, grpc-timeout 1 s) is ended by the server DEADLINE_EXCEEDED; its fill before stays, nothing after', async () => {
      const call = rawOpenStream(app.port, '/crypto.CryptoService/Trade', {
        authorization: `Bearer ${await app.token('alice')}`,
        'grpc-timeout': '1000m',
      });
      try {
        call.send(frame(TradeRequest.encode({ kind: { $case: 'order', value: buy('sd-1', 'DOGE', '10') } }).finish()));
        const events = () => call.messages.map((m) => TradeResponse.decode(m).event?.$case);
        await until(() => events().includes('fill'), 'the fill');
        const { status: code, message, ms } = await call.ended;
        assert.equal(code, String(status.DEADLINE_EXCEEDED), message);
        assert.ok(ms >= 900 && ms < 5_000, `ended after ${ms.toFixed(0)} ms`);
        assert.deepEqual(
          events().filter((e) => e !== 'ping'),
          ['fill'],
          'the fill (and keep-alives while it waited)',
        );
        assert.deepEqual([...(await tradeRows(app, 'sd-')).keys()], ['alice sd-1']);
      } finally {
        call.close();
      }
    });

    test('deadline mid-stream: DEADLINE_EXCEEDED; the orders filled before it are in the ledger, at most one more, nothing after', async () => {
      const session = openTrade(await app.client('alice'), { deadline: 1_500 });
      const fills: TradeFill[] = [];
      const started = Date.now();
      let failure: ServiceError | undefined;
      for (let i = 0; !failure; i++) {
        const outcome = await session.place(buy(`d-${i}`, 'XRP', '1')).catch((e: ServiceError) => (failure = e));
        if (!failure) fills.push(fillOf(outcome as TradeOutcome));
        await sleep(50);
      }
      assert.equal(failure!.code, status.DEADLINE_EXCEEDED, failure!.details);
      assert.ok(Date.now() - started < 10_000);
      assert.ok(fills.length > 3, `${fills.length} fills before the deadline`);
      await sleep(300);
      const rows = await tradeRows(app, 'd-');
      for (const f of fills) assert.equal(rows.get(`alice ${f.clientOrderId}`)?.rows, 1);
      assert.ok(rows.size <= fills.length + 1);
      await sleep(300);
      assert.equal((await tradeRows(app, 'd-')).size, rows.size, 'nothing applied after');
    });
  });
}
