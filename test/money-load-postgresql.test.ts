// The money storm on postgresql (test/support/money-storm.ts): 40 client workers for MONEY_LOAD_SECONDS
// (8 here; `npm run loadtest` runs 30), every call's status, the ledger, the database's own
// counters and GetCoin's p99 checked.
import { test } from 'node:test';
import { moneyStorm, STORM_SECONDS } from './support/money-storm.ts';

test(
  `postgresql: 40 client workers for ${STORM_SECONDS} s of transfers both ways and in cycles, deposits, withdrawals, GetCoin: every call OK, each applied once, no deadlock, GetCoin p99 bounded`,
  { timeout: 120_000 + STORM_SECONDS * 3000 },
  (t) => moneyStorm(t, 'postgresql'),
);
