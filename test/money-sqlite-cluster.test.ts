// Two `rungrpc` processes on one SQLite file (issue 21, item 6): money moves both ways through
// both at once, each waiting its turn for the one writer; every call OK, each applied once, and
// health never leaves SERVING (waiting for the other process is not an outage).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMoneyLoad } from './bench/money-load.ts';
import { startCrypto } from './support/crypto-env.ts';
import { watchHealth } from './support/health-check.ts';
import { assertLedgerMatches, balancesOf, tokensFor, type MoneyCall } from './support/money.ts';

test('SQLite, rungrpc --processes 2: 16 clients move money both ways through both processes for 3 s: every call OK, each applied once, health SERVING', async () => {
  const app = await startCrypto('sqlite', { CFG_GRPC_PROCESSES: '2' });
  try {
    const tokens = await tokensFor(app, ['alice', 'bob']);
    const before = await balancesOf(app, 'ETH');
    const health = watchHealth(app.address);
    const load = await runMoneyLoad({
      address: app.address,
      tokens,
      pairs: [
        ['alice', 'bob'],
        ['bob', 'alice'],
      ],
      cycle: ['transfer'],
      symbol: 'ETH',
      amount: '0.00000001',
      seconds: 3,
      processes: 2,
      loops: 16,
      connections: 4,
      deadlineMs: 10_000,
      keyPrefix: 'two',
      record: true,
    });
    const seen = await health.stop();
    assert.deepEqual(Object.keys(load.kinds.transfer!.statuses), ['OK'], JSON.stringify(load.kinds.transfer!.statuses));
    assert.ok(load.kinds.transfer!.count >= 16, `${load.kinds.transfer!.count} transfers`);
    assert.deepEqual([...new Set(seen)], [1], 'health left SERVING');
    const calls: MoneyCall[] = load.calls.map(([key, kind, user, to, code]) => ({
      key,
      kind: kind as 'transfer',
      user,
      to,
      code,
      amount: 1n,
    }));
    await assertLedgerMatches(app, 'ETH', calls, before, 'two-');
  } finally {
    await app.stop();
  }
});
