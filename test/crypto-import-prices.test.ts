// ImportPrices (client streaming, staff only) end to end on SQLite and PostgreSQL, through the
// app's typed client against a real `cfg rungrpc`: ticks applied in batches, each in one
// transaction (CRYPTO_IMPORT_BATCH=100 here, and no time-based flush, so batch edges are exact),
// pushed to WatchPrices; refused without staff; a bad tick fails the call naming it and leaves
// exactly the batches before it; a cancelled call, one past its deadline and one met by SIGTERM
// leave whole batches only; the server reads no faster than it writes. Every tick sets a price of
// its own, so the database tells exactly which ticks were applied (support/streams.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ImportPricesRequest } from '../generated/crypto_service.ts';
import { callError } from './fixtures/client.ts';
import { cryptoClient } from '../apps/crypto/grpc_services/client.ts';
import { spawnCryptoServer, startCrypto, type CryptoEnv, type Provider } from './support/crypto-env.ts';
import { frame } from './support/raw-grpc.ts';
import { appliedPrefix, feedPrices, feedTick, rawOpenStream, until } from './support/streams.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ticks one by one, waiting `gapMs` before each from `slowFrom` on; `sent.n` counts those yielded. */
async function* feed(
  ticks: ImportPricesRequest[],
  options: { slowFrom?: number; gapMs?: number; sent?: { n: number } } = {},
): AsyncGenerator<ImportPricesRequest> {
  for (let i = 0; i < ticks.length; i++) {
    if (options.slowFrom !== undefined && i >= options.slowFrom) await sleep(options.gapMs ?? 20);
    if (options.sent) options.sent.n = i + 1;
    yield ticks[i]!;
  }
}

let runs = 0;
const run = () => ++runs;
/** A feed of `n` ticks of a run of its own. */
const feedOf = (n: number) => {
  const r = run();
  return Array.from({ length: n }, (_, i) => feedTick(r, i));
};

for (const provider of ['sqlite', 'postgresql'] as Provider[]) {
  describe(`ImportPrices on ${provider}`, () => {
    let app: CryptoEnv;
    before(async () => {
      app = await startCrypto(provider, { CRYPTO_IMPORT_BATCH: '100', CRYPTO_IMPORT_FLUSH_MS: '600000' });
    });
    after(async () => {
      await app?.stop();
    });

    test('happy path: 250 ticks in 3 transactions, the summary, the prices written, each batch pushed to WatchPrices', async () => {
      const admin = await app.client('admin');
      const ticks = feedOf(250);
      ticks[6] = { ...ticks[6]!, change24hPercent: '-3.25' }; // ETH's last change in the first batch
      const initial = await feedPrices(app);
      const watch = new AbortController();
      const updates: string[] = [];
      const watching = (async () => {
        for await (const u of (await app.client()).watchPrices({ symbols: ['BTC'] }, { signal: watch.signal })) updates.push(u.priceUsd);
      })().catch(() => {});
      await until(() => updates.length > 0, 'the WatchPrices snapshot');

      const summary = await admin.importPrices(ticks);
      assert.equal(summary.ticks, 250);
      assert.equal(summary.batches, 3);
      const last = (symbol: string) => ticks.filter((t) => t.symbol === symbol).at(-1)!.priceUsd;
      assert.deepEqual(
        summary.prices.map((p) => [p.symbol, p.priceUsd]),
        ['ADA', 'BTC', 'ETH', 'SOL', 'XRP'].map((s) => [s, last(s)]),
        'each coin at its last tick, by symbol',
      );
      assert.equal(
        summary.prices.find((p) => p.symbol === 'ETH')!.change24hPercent,
        '-3.25',
        'a change given in an earlier tick of the coin is kept',
      );
      assert.equal(await appliedPrefix(app, initial, ticks), 250);
      // One push per batch: BTC's last tick in ticks 0-99, 100-199, 200-249.
      const perBatch = [99, 199, 249].map(
        (end) =>
          ticks
            .slice(0, end + 1)
            .filter((t) => t.symbol === 'BTC')
            .at(-1)!.priceUsd,
      );
      await until(() => updates.length >= 4, 'three WatchPrices updates');
      watch.abort();
      await watching;
      assert.deepEqual(updates.slice(1), perBatch);
      assert.equal(
        (await (await app.client()).getCoin({ symbol: 'BTC' })).coin!.priceUsd,
        last('BTC'),
        'GetCoin reads it (its cache sees the commit)',
      );
      assert.deepEqual(await admin.importPrices([]), { ticks: 0, batches: 0, prices: [] }, 'an empty feed');
    });

    test('auth refused: anonymous UNAUTHENTICATED, a user or a holder of crypto.change_coin PERMISSION_DENIED (staff only); nothing applied', async () => {
      const ticks = [feedTick(run(), 0)];
      const before = await feedPrices(app);
      const anonymous = await callError((await app.client()).importPrices(ticks));
      assert.equal(anonymous.code, status.UNAUTHENTICATED, anonymous.details);
      for (const user of ['alice', 'editor']) {
        const err = await callError((await app.client(user)).importPrices(ticks));
        assert.deepEqual([err.code, err.details], [status.PERMISSION_DENIED, 'Staff access required'], user);
      }
      assert.deepEqual(await feedPrices(app), before);
      // The typed client stops pulling a feed once its call has ended, and closes it.
      let pulled = 0;
      let closed = false;
      const endless = async function* () {
        try {
          for (;;) {
            pulled++;
            yield feedTick(run(), 0);
            await sleep(1);
          }
        } finally {
          closed = true;
        }
      };
      assert.equal((await callError((await app.client('alice')).importPrices(endless()))).code, status.PERMISSION_DENIED);
      await until(() => closed, "the refused call's feed closed");
      const atClose = pulled;
      await sleep(100);
      assert.equal(pulled, atClose, 'nothing pulled after');
    });

    test('a malformed tick mid-stream: INVALID_ARGUMENT naming it; the two batches before it stay, nothing of its own batch is applied', async () => {
      const admin = await app.client('admin');
      const ticks = feedOf(240);
      const initial = await feedPrices(app);
      const bad = [...ticks.slice(0, 230), { symbol: 'BTC', priceUsd: '12.5x', change24hPercent: '' }, ...ticks.slice(230)];
      const err = await callError(admin.importPrices(bad));
      assert.equal(err.code, status.INVALID_ARGUMENT);
      assert.equal(
        err.details,
        'tick 230: price_usd must be a decimal number like "12.5" (got "12.5x"). Nothing from tick 200 on was applied; ticks 0-199 were (2 batches).',
      );
      assert.equal(await appliedPrefix(app, initial, ticks), 200);
      await until(
        () => /"msg":"\/crypto\.CryptoService\/ImportPrices","status":"INVALID_ARGUMENT"[^\n]*"user":"admin"/.test(app.logs()),
        'the call log line (the interceptor chain saw the status)',
      );
      for (const [change, message] of [
        [{ symbol: '' }, 'Symbol is required'],
        [{ priceUsd: '-1' }, 'price_usd must not be negative'],
        [{ change24hPercent: '-101' }, 'change_24h_percent must be between -100 and 1000000'],
      ] as const) {
        const e = await callError(admin.importPrices([feedTick(run(), 0), { ...feedTick(run(), 1), ...change }]));
        assert.deepEqual([e.code, e.details], [status.INVALID_ARGUMENT, `tick 1: ${message}. Nothing was applied.`]);
      }
    });

    test('a tick naming an unknown or deleted coin: NOT_FOUND naming its first tick in the batch; its whole batch rolled back', async () => {
      const admin = await app.client('admin');
      await admin.createCoin({ symbol: 'GONE', name: 'Gone', priceUsd: '1', marketCapUsd: '', volume24hUsd: '' });
      await admin.deleteCoin({ symbol: 'GONE' });
      const ticks = feedOf(150);
      const initial = await feedPrices(app);
      const err = await callError(
        admin.importPrices([...ticks.slice(0, 120), { symbol: 'GONE', priceUsd: '2', change24hPercent: '' }, ...ticks.slice(120)]),
      );
      assert.deepEqual(
        [err.code, err.details],
        [status.NOT_FOUND, 'tick 120: Coin GONE not found. Nothing from tick 100 on was applied; ticks 0-99 were (1 batch).'],
      );
      // The batch's ticks before the unknown coin were written in its transaction, then rolled back.
      assert.equal(await appliedPrefix(app, initial, ticks), 100);
      assert.equal((await app.query(`SELECT "priceUnits" AS p FROM crypto_coin WHERE symbol = 'GONE'`))[0]!.p, '100000000');
    });

    // A cancel reaches the server as the end of the requests and then the reset (grpc-js closes the
    // HTTP/2 stream, which sends END_STREAM before RST_STREAM): when the reset comes too late to be
    // seen with the end, the batch being read is applied as the last one, whole. Either way the
    // prices are those of whole batches, and nothing is written after.
    const droppedOrWhole = (applied: number, sent: number) => applied === 100 || (applied >= sent - 2 && applied <= sent);

    test('client cancel mid-stream: the batch being read is dropped (or, racing the end, applied whole), the one written stays, nothing is written after', async () => {
      const admin = await app.client('admin');
      const ticks = feedOf(400);
      const initial = await feedPrices(app);
      const controller = new AbortController();
      const sent = { n: 0 };
      const call = admin.importPrices(feed(ticks, { slowFrom: 100, gapMs: 5, sent }), { signal: controller.signal, deadline: 60_000 });
      await until(async () => (await appliedPrefix(app, initial, ticks)) === 100, 'the first batch');
      await until(() => sent.n >= 150, 'half of the second batch sent');
      controller.abort();
      const atCancel = sent.n;
      assert.equal((await callError(call)).code, status.CANCELLED);
      await sleep(300);
      const applied = await appliedPrefix(app, initial, ticks);
      assert.ok(droppedOrWhole(applied, atCancel), `applied ${applied} of ${atCancel} sent`);
      await sleep(300);
      assert.equal(await appliedPrefix(app, initial, ticks), applied, 'nothing written after the cancel');
    });

    test('deadline mid-stream: DEADLINE_EXCEEDED; the batch written before stays, the one being read is dropped (or, racing the end, applied whole)', async () => {
      const admin = await app.client('admin');
      const ticks = feedOf(1000);
      const initial = await feedPrices(app);
      const started = Date.now();
      const sent = { n: 0 };
      const err = await callError(admin.importPrices(feed(ticks, { slowFrom: 130, gapMs: 50, sent }), { deadline: 2_500 }));
      const atDeadline = sent.n;
      assert.equal(err.code, status.DEADLINE_EXCEEDED, err.details);
      assert.ok(Date.now() - started < 10_000, 'ended at its deadline');
      await sleep(300);
      const applied = await appliedPrefix(app, initial, ticks);
      assert.ok(droppedOrWhole(applied, atDeadline), `applied ${applied} of ${atDeadline} sent`);
      await sleep(300);
      assert.equal(await appliedPrefix(app, initial, ticks), applied, 'nothing written after the deadline');
    });

    test('server deadline: a client that never cancels (raw HTTP/2, grpc-timeout 1 s) is ended by the server DEADLINE_EXCEEDED; exactly the batch written before stays', async () => {
      const ticks = feedOf(150);
      const initial = await feedPrices(app);
      const call = rawOpenStream(app.port, '/crypto.CryptoService/ImportPrices', {
        authorization: `Bearer ${await app.token('admin')}`,
        'grpc-timeout': '1000m',
      });
      try {
        call.send(Buffer.concat(ticks.map((t) => frame(ImportPricesRequest.encode(t).finish()))));
        const { status: code, message, ms } = await call.ended;
        assert.equal(code, String(status.DEADLINE_EXCEEDED), message);
        assert.ok(ms >= 900 && ms < 5_000, `ended after ${ms.toFixed(0)} ms`);
        await sleep(300);
        assert.equal(await appliedPrefix(app, initial, ticks), 100, 'the full batch, not the 50 ticks read after it');
      } finally {
        call.close();
      }
    });

    test('back-pressure: while the database is locked the server stops reading, so the client can hand over only what the transport holds; all of it is applied after', async () => {
      // grpc-js keeps up to 1 MB of a call's messages for transparent retries until the server's
      // first response headers (for ImportPrices, its summary), accepting ticks the transport does
      // not take yet: none here, so what the client hands over is what HTTP/2 flow control lets through.
      const admin = cryptoClient(app.address, { token: await app.token('admin'), channelOptions: { 'grpc.per_rpc_retry_buffer_size': 0 } });
      const r = run();
      const pulled = { n: 0 };
      let stop = false;
      async function* endless(): AsyncGenerator<ImportPricesRequest> {
        for (let i = 0; !stop; i++) {
          pulled.n = i + 1;
          yield feedTick(r, i);
        }
      }
      let call: Promise<{ ticks: number }> | undefined;
      let whileLocked = 0;
      let later = 0;
      try {
        const unlock = await lockCoins(app);
        try {
          call = admin.importPrices(endless(), { deadline: 60_000 });
          call.catch(() => {});
          await sleep(1_000);
          whileLocked = pulled.n;
          await sleep(400);
          later = pulled.n;
        } finally {
          await unlock();
        }
        console.log(`ticks handed over while the database was locked: ${whileLocked}, 400 ms later ${later}`);
        assert.ok(whileLocked > 100, 'the client got the first batch out');
        assert.equal(later, whileLocked, 'stalled: the first batch cannot commit, so nothing more is read');
        assert.ok(whileLocked < 10_000, `${whileLocked} ticks handed over: more than flow control holds`);
        await until(() => pulled.n > whileLocked + 1_000, 'the feed going on once the database is free');
      } finally {
        stop = true;
      }
      const summary = await call!;
      assert.equal(summary.ticks, pulled.n, 'every tick handed over was applied');
      admin.close();
    });

    if (provider === 'postgresql') {
      test('a database error mid-stream (the coins locked past lock_timeout): ABORTED, never OK, saying which ticks the batches before applied', async () => {
        const admin = await app.client('admin');
        const ticks = feedOf(200);
        const initial = await feedPrices(app);
        let go!: () => void;
        const held = new Promise<void>((resolve) => (go = resolve));
        const call = admin.importPrices(
          (async function* () {
            yield* ticks.slice(0, 100);
            await held;
            yield* ticks.slice(100);
          })(),
          { deadline: 30_000 },
        );
        call.catch(() => {});
        await until(async () => (await appliedPrefix(app, initial, ticks)) === 100, 'the first batch');
        const unlock = await lockCoins(app);
        try {
          go();
          const err = await callError(call);
          assert.equal(err.code, status.ABORTED, err.details);
          assert.match(err.details, /lock.*\. Nothing from tick 100 on was applied; ticks 0-99 were \(1 batch\)\.$/);
        } finally {
          await unlock();
        }
        assert.equal(await appliedPrefix(app, initial, ticks), 100);
      });
    }

    test('SIGTERM mid-stream (a second server on the same data, batches by time): UNAVAILABLE with the shutdown message; whole batches only', async () => {
      const second = await spawnCryptoServer({ ...app.env, CRYPTO_IMPORT_BATCH: '1000', CRYPTO_IMPORT_FLUSH_MS: '100' });
      const admin = cryptoClient(`127.0.0.1:${second.port}`, { token: await app.token('admin') });
      try {
        const ticks = feedOf(2000);
        const initial = await feedPrices(app);
        const call = admin.importPrices(feed(ticks, { slowFrom: 0, gapMs: 10 }), { deadline: 60_000 });
        call.catch(() => {});
        await until(async () => (await appliedPrefix(app, initial, ticks)) >= 10, 'a batch flushed by time');
        const exited = second.stop();
        const err = await callError(call);
        assert.equal(err.code, status.UNAVAILABLE);
        assert.match(err.details, /^Server is shutting down: this stream was ended/);
        await exited;
        assert.equal(second.child.exitCode, 0, second.stderr());
        const applied = await appliedPrefix(app, initial, ticks);
        assert.ok(applied >= 10 && applied < 2000, `applied ${applied}`);
      } finally {
        admin.close();
        await second.stop();
      }
    });
  });
}

/** Holds the coins' rows locked (SQLite: the write lock; PostgreSQL: the table) until the returned function is called. */
async function lockCoins(app: CryptoEnv): Promise<() => Promise<void>> {
  if (app.provider === 'sqlite') {
    const file = String(app.env.DATABASE_URL).replace(/^file:/, '');
    const db = new Database(file, { timeout: 5_000 });
    db.prepare('BEGIN IMMEDIATE').run();
    return async () => {
      db.prepare('ROLLBACK').run();
      db.close();
    };
  }
  const url = new URL(String(app.env.DATABASE_URL));
  const schema = url.searchParams.get('schema')!;
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`BEGIN; SET LOCAL search_path TO ${schema}; LOCK TABLE crypto_coin IN EXCLUSIVE MODE`);
  return async () => {
    await client.query('ROLLBACK');
    await client.end();
  };
}
