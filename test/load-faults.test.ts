// Money under load: 500 transfers from 20 concurrent clients among 10 wallets on PostgreSQL, in
// every direction at once: each call answered OK is in the ledger once, each refusal (too little
// money, the only one allowed) is not, balances are exact, and PostgreSQL counts no deadlock and
// no rolled-back transaction. And SIGTERM while 100 transfers are in flight: each completes or is
// refused UNAVAILABLE, none is half-applied, and the process exits 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { cryptoClient } from '../apps/crypto/grpc_services/client.ts';
import { startCrypto } from './support/crypto-env.ts';
import { addUsers, assertLedgerMatches, balancesOf, type MoneyCall } from './support/money.ts';

test('PostgreSQL: 500 transfers, 20 clients, 10 wallets, every direction at once: each OK applied once, each refusal for funds applied nothing, no deadlock, no rollback', async () => {
  const app = await startCrypto('postgresql', {}, { ownDatabase: true });
  try {
    const users = Array.from({ length: 10 }, (_, i) => `load${i}`);
    const tokens = await addUsers(app, users, 'ETH', 10n * 10n ** 8n);
    const before = await balancesOf(app, 'ETH');
    const clients = Array.from({ length: 20 }, (_, i) => cryptoClient(app.address, { token: tokens[users[i % 10]!]! }));
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const calls: MoneyCall[] = [];
    const started = performance.now();
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < 25; i++) {
          const from = c % 10;
          const to = (from + 1 + Math.floor(rand() * 9)) % 10;
          const amount = (0.1 + rand() * 3).toFixed(3);
          const call: MoneyCall = {
            key: `load-${c}-${i}`,
            kind: 'transfer',
            user: users[from]!,
            to: users[to]!,
            amount: BigInt(Math.round(Number(amount) * 1e8)),
            code: -1,
          };
          calls.push(call);
          const err = await client
            .transfer({ toUsername: call.to, symbol: 'ETH', amount, idempotencyKey: call.key }, { deadline: 30_000 })
            .then(
              () => undefined,
              (e: ServiceError) => e,
            );
          call.code = err?.code ?? status.OK;
          // Wallets of 10 ETH sending up to 3.1 ETH: some calls find too little, which is the only refusal allowed.
          if (err) assert.deepEqual([err.code, err.details], [status.FAILED_PRECONDITION, 'Insufficient ETH balance'], call.key);
        }
      }),
    );
    console.log(
      `500 transfers in ${((performance.now() - started) / 1000).toFixed(1)} s, ${calls.filter((c) => c.code === status.OK).length} applied`,
    );
    for (const client of clients) client.close();
    assert.equal(calls.length, 500);
    assert.ok(calls.filter((c) => c.code === status.OK).length > 250, 'most transfers applied');
    await assertLedgerMatches(app, 'ETH', calls, before, 'load-');
    await app.stopServer();
    assert.deepEqual(await app.counters(), { deadlocks: 0, rollbacks: 0 }, "PostgreSQL's own counters");
  } finally {
    await app.stop();
  }
});

test('SIGTERM with 100 transfers in flight: each completes or is UNAVAILABLE, none half-applied, exit 0', async () => {
  const app = await startCrypto('sqlite');
  try {
    const alice = await app.client('alice');
    const before = await app.query('SELECT SUM("balanceUnits") AS t FROM crypto_wallet');
    const balances = await balancesOf(app, 'BTC');
    const calls = Array.from({ length: 100 }, (_, i) =>
      alice.transfer({ toUsername: 'bob', symbol: 'BTC', amount: '0.001', idempotencyKey: `term-${i}` }).then(
        () => 'ok' as const,
        (err: ServiceError) => err,
      ),
    );
    const exited = new Promise<number | null>((resolve) => app.child.once('exit', (code) => resolve(code)));
    setImmediate(() => app.child.kill('SIGTERM'));
    const results = await Promise.all(calls);
    for (const r of results) if (r !== 'ok') assert.equal(r.code, status.UNAVAILABLE, `${r.code} ${r.details}`);
    assert.equal(await exited, 0);
    const answered: MoneyCall[] = results.map((r, i) => ({
      key: `term-${i}`,
      kind: 'transfer',
      user: 'alice',
      to: 'bob',
      amount: 100_000n,
      code: r === 'ok' ? status.OK : r.code,
    }));
    await assertLedgerMatches(app, 'BTC', answered, balances, 'term-');
    assert.deepEqual(await app.query('SELECT SUM("balanceUnits") AS t FROM crypto_wallet'), before, 'money conserved');
  } finally {
    await app.stop();
  }
});
