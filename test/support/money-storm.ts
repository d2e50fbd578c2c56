// The money storm of issue 21 ("Done when"): 40 concurrent client workers (grpc-js, spread over 4
// child processes) for MONEY_LOAD_SECONDS (default 8 in `npm test`; `npm run loadtest` runs 30):
// transfers in every direction among three users (cycles included) mixed with deposits,
// withdrawals and GetCoin, a 5 s deadline on every call. Checked: every call's status, the
// ledger against the calls (each OK applied once, each error not at all, balances exact, none
// negative), PostgreSQL's own deadlock and rollback counters, and GetCoin's p99 during the storm
// against its p99 at rest (one client calling GetCoin in turn, alone, then during the storm; see
// P99_RATIO). The storm's workers run at a lower CPU priority and the GetCoin probe at a higher one
// (see NICE): the figure is the server's, not the generator's share of the same 2 cores.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { cryptoClient } from '../../apps/crypto/grpc_services/client.ts';
import { describeLoad, runMoneyLoad, type MoneyLoadResult } from '../bench/money-load.ts';
import type { CallKind } from '../bench/money-worker.ts';
import { startCrypto, type Provider } from './crypto-env.ts';
import { assertLedgerMatches, balancesOf, tokensFor, type MoneyCall } from './money.ts';

export const STORM_SECONDS = Number(process.env.MONEY_LOAD_SECONDS ?? 8);
/**
 * GetCoin's p99 during the storm over its p99 at rest, at most. `npm run loadtest` checks the 3x of
 * issue 21 on a machine given to it; inside `npm test` other test files share the machine and a
 * tail latency ratio is no tighter than that noise, so the bound there is 10x (the old ledger
 * measured 20x on PostgreSQL, 57x on SQLite) and the figure is printed.
 */
const P99_RATIO = Number(process.env.MONEY_LOAD_P99_RATIO ?? 10);
/**
 * Below this, a p99 during the storm passes whatever the ratio (default 1000 ms in `npm test`, a
 * fifth of the calls' 5 s deadline; `npm run loadtest` sets 0): a fast GetCoin at rest (tens of ms
 * on a busy machine) made the ratio flip on noise alone, while what the check is for (the old
 * ledger kept GetCoin waiting for seconds) is far above it.
 */
const P99_FLOOR_MS = Number(process.env.MONEY_LOAD_P99_FLOOR_MS ?? 1000);
const USERS = ['alice', 'bob', 'carol'];
// Every direction between the three, so opposite transfers and cycles (a->b->c->a) run at once.
const PAIRS: Array<[string, string]> = [
  ['alice', 'bob'],
  ['bob', 'alice'],
  ['bob', 'carol'],
  ['carol', 'bob'],
  ['carol', 'alice'],
  ['alice', 'carol'],
];
// Per loop, in turn: 7 transfers, a deposit, a withdrawal, a GetCoin.
const CYCLE: CallKind[] = [
  'transfer',
  'transfer',
  'deposit',
  'transfer',
  'transfer',
  'getCoin',
  'transfer',
  'withdraw',
  'transfer',
  'transfer',
];
const AMOUNT = '0.01';
const AMOUNT_UNITS = 1_000_000n;
const PROBE_SECONDS = 4;
/**
 * CPU priorities (nice) of the storm's workers and of the GetCoin probe. On one machine the 40
 * workers' grpc-js clients compete with the server for the same cores, and the probe's own process
 * waits for a core behind them: GetCoin's tail then measures the machine's run queue, not the
 * server (on this 2-core machine: 3.9-5.7x with both at 0, the storm at the same rate). Clients on
 * machines of their own do not take the server's cores; lowering the workers' priority makes them
 * take what the server and the database leave. The storm's rate is printed, so that a storm made
 * weaker by it shows. MONEY_LOAD_NICE=off runs everything at the inherited priority. The probe's
 * -10 needs root or CAP_SYS_NICE; without it the probe runs at 0, and says so.
 */
const NICE = process.env.MONEY_LOAD_NICE === 'off' ? undefined : { storm: 10, probe: -10 };

export async function moneyStorm(t: TestContext, provider: Provider): Promise<void> {
  // maxWorkers 64: the 40 workers' calls all run at once instead of queueing behind the default 10.
  const app = await startCrypto(provider, { CFG_GRPC_MAX_WORKERS: '64' }, { ownDatabase: provider === 'postgresql' });
  try {
    const tokens = await tokensFor(app, USERS);
    // Enough for every withdrawal and transfer the storm can make: no call may be refused for funds.
    for (const u of USERS) {
      const client = cryptoClient(app.address, { token: tokens[u]! });
      await client.deposit({ symbol: 'ETH', amount: '100000', idempotencyKey: `seed-${u}` });
      client.close();
    }
    const before = await balancesOf(app, 'ETH');
    const common = { address: app.address, tokens, pairs: PAIRS, symbol: 'ETH', amount: AMOUNT, deadlineMs: 5_000, connections: 2 };
    const probe = (keyPrefix: string, seconds: number) =>
      runMoneyLoad({ ...common, cycle: ['getCoin'], seconds, processes: 1, loops: 1, keyPrefix, record: false, priority: NICE?.probe });

    const rest = await probe('rest', PROBE_SECONDS);
    const [storm, during] = await Promise.all([
      runMoneyLoad({
        ...common,
        cycle: CYCLE,
        seconds: STORM_SECONDS,
        processes: 4,
        loops: 40,
        intervalMs: Number(process.env.MONEY_LOAD_INTERVAL_MS ?? 0),
        keyPrefix: 'storm',
        record: true,
        priority: NICE?.storm,
      }),
      probe('during', STORM_SECONDS),
    ]);
    const restP99 = rest.kinds.getCoin!.p99ms;
    const duringP99 = during.kinds.getCoin!.p99ms;
    const refused = [rest, during, storm].find((r) => r.priorityRefused)?.priorityRefused;
    const priorities = NICE
      ? `workers at nice ${NICE.storm}, GetCoin probe at nice ${NICE.probe}${refused ? ` (refused: ${refused})` : ''}`
      : 'every process at the inherited priority (MONEY_LOAD_NICE=off)';
    for (const line of [`${provider}, ${STORM_SECONDS} s, 40 workers, ${priorities}:`, ...report(storm)]) t.diagnostic(line);
    t.diagnostic(
      `GetCoin alone: p50 ${rest.kinds.getCoin!.p50ms.toFixed(2)} ms, p99 ${restP99.toFixed(2)} ms; during the storm: p50 ${during.kinds.getCoin!.p50ms.toFixed(2)} ms, p99 ${duringP99.toFixed(2)} ms (x${(duringP99 / restP99).toFixed(2)})`,
    );

    for (const [kind, stats] of Object.entries(storm.kinds))
      assert.deepEqual(Object.keys(stats.statuses), ['OK'], `${kind}: every call OK (${JSON.stringify(stats.statuses)})`);
    assert.deepEqual(Object.keys(during.kinds.getCoin!.statuses), ['OK']);
    assert.ok(storm.kinds.transfer!.count >= 40, `${storm.kinds.transfer!.count} transfers in ${STORM_SECONDS} s`);

    const calls: MoneyCall[] = storm.calls.map(([key, kind, user, to, code]) => ({
      key,
      kind: kind as MoneyCall['kind'],
      user,
      to,
      code,
      amount: AMOUNT_UNITS,
    }));
    await assertLedgerMatches(app, 'ETH', calls, before, 'storm-');
    if (provider === 'postgresql') {
      await app.stopServer();
      assert.deepEqual(await app.counters(), { deadlocks: 0, rollbacks: 0 }, 'PostgreSQL counted a deadlock or a rolled-back transaction');
    }
    assert.ok(
      duringP99 <= Math.max(P99_RATIO * restP99, P99_FLOOR_MS),
      `GetCoin p99 during the storm ${duringP99.toFixed(2)} ms > ${P99_RATIO} x its p99 at rest ${restP99.toFixed(2)} ms${P99_FLOOR_MS > 0 ? ` and > ${P99_FLOOR_MS} ms` : ''}`,
    );
  } finally {
    await app.stop();
  }
}

function report(r: MoneyLoadResult): string[] {
  const money = (['transfer', 'deposit', 'withdraw'] as const).reduce((n, k) => n + (r.kinds[k]?.statuses.OK ?? 0), 0);
  return [
    `${(money / r.seconds).toFixed(0)} money calls OK/s, the generator using ${r.generatorCores.toFixed(2)} cores`,
    ...describeLoad(r).split('\n'),
  ];
}
