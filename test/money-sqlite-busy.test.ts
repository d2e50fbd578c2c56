// SQLite has one writer (issue 21, item 6): while another connection or process writes, money
// calls wait their turn (without blocking the event loop: other calls are answered meanwhile),
// and a wait past the limit answers UNAVAILABLE "Database busy" having applied nothing. Neither is
// a database outage: health stays SERVING throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { startCrypto } from './support/crypto-env.ts';
import { watchHealth } from './support/health-check.ts';
import { assertLedgerMatches, balancesOf, type MoneyCall } from './support/money.ts';

test('SQLite written by another process: transfers wait and succeed, past 5 s they are UNAVAILABLE and not applied; GetCoin answers meanwhile; health stays SERVING', async () => {
  // maxWorkers 64: the ten waiting transfers must not take every call slot (the default is 10, and
  // a call waiting for the lock holds its slot), so GetCoin shows whether the event loop is free.
  const app = await startCrypto('sqlite', { CFG_GRPC_MAX_WORKERS: '64' });
  const other = new Database(String(app.env.DATABASE_URL).replace(/^file:/, ''));
  try {
    const clients = { alice: await app.client('alice'), bob: await app.client('bob') };
    const anon = await app.client();
    const before = await balancesOf(app, 'ETH');
    const calls: MoneyCall[] = [];
    const send = (key: string, user: 'alice' | 'bob') => {
      const to = user === 'alice' ? 'bob' : 'alice';
      const call: MoneyCall = { key, kind: 'transfer', user, to, amount: 1_000_000n, code: -1 };
      calls.push(call);
      return clients[user].transfer({ toUsername: to, symbol: 'ETH', amount: '0.01', idempotencyKey: key }, { deadline: 30_000 }).then(
        () => {
          call.code = status.OK;
        },
        (e: ServiceError) => {
          call.code = e.code;
          return e;
        },
      );
    };
    // Warm: the ledger's writer thread, GetCoin's cache and each user's token are first used here.
    await send('warm-alice', 'alice');
    await send('warm-bob', 'bob');
    await anon.getCoin({ symbol: 'BTC' });
    const health = watchHealth(app.address);

    // Another writer holds the lock for 1 s: the transfers wait, then all succeed.
    other.exec('BEGIN IMMEDIATE');
    const waiting = Array.from({ length: 10 }, (_, i) => send(`busy-${i}`, i % 2 ? 'bob' : 'alice'));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    assert.equal((await anon.getCoin({ symbol: 'BTC' }, { deadline: 5_000 })).coin?.symbol, 'BTC');
    console.log(`GetCoin answered in ${(performance.now() - t0).toFixed(1)} ms while the transfers waited for the lock`);
    await new Promise((r) => setTimeout(r, 700));
    other.exec('COMMIT');
    for (const [i, e] of (await Promise.all(waiting)).entries()) assert.equal(e, undefined, `busy-${i}: ${e?.code} ${e?.details}`);

    // Held for 7 s: past the 5 s limit the calls answer UNAVAILABLE "Database busy" and apply nothing.
    other.exec('BEGIN IMMEDIATE');
    const refused = Array.from({ length: 3 }, (_, i) => send(`stuck-${i}`, 'alice'));
    const errors = await Promise.all(refused);
    other.exec('ROLLBACK');
    for (const e of errors) {
      assert.equal(e?.code, status.UNAVAILABLE, `${e?.code} ${e?.details}`);
      assert.match(String(e?.details), /^Database busy: .*nothing was applied, retry/);
    }
    assert.deepEqual([...new Set(await health.stop())], [1], 'health left SERVING while another writer held the lock');
    await assertLedgerMatches(app, 'ETH', calls, before, 'busy-');
    assert.equal(calls.filter((c) => c.key.startsWith('warm-') && c.code === status.OK).length, 2);
    assert.equal((await app.query(`SELECT COUNT(*) AS n FROM crypto_transfer WHERE "idempotencyKey" LIKE 'stuck-%'`))[0]!.n, '0');
  } finally {
    other.close();
    await app.stop();
  }
});
