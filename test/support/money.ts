// Checks for the money tests: balances and ledger rows read from the database itself, and the
// rule that every call answered OK was applied exactly once and every other call not at all.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { CryptoEnv } from './crypto-env.ts';

/** Users made in two SQL statements, each with a `symbol` wallet holding `units`, and a token for each. */
export async function addUsers(app: CryptoEnv, names: string[], symbol: string, units: bigint): Promise<Record<string, string>> {
  const now = new Date().toISOString().replace('Z', '+00:00');
  const at = app.provider === 'sqlite' ? `'${now}'` : 'CURRENT_TIMESTAMP';
  await app.query(`INSERT INTO auth_user (username, email) VALUES ${names.map((n) => `('${n}', '${n}@example.com')`).join(', ')}`);
  await app.query(
    `INSERT INTO crypto_wallet ("userId", "coinId", "balanceUnits", "createdAt", "updatedAt")
     SELECT u.id, c.id, ${units}, ${at}, ${at} FROM auth_user u, crypto_coin c WHERE c.symbol = '${symbol}' AND u.username IN (${names.map((n) => `'${n}'`).join(', ')})`,
  );
  return tokensFor(app, names);
}

/** A token for each user (app.token). */
export async function tokensFor(app: CryptoEnv, names: string[]): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await app.token(n)] as const)));
}

/** One money call a test made, and the status it was answered with. */
export interface MoneyCall {
  key: string;
  kind: 'transfer' | 'deposit' | 'withdraw';
  /** Who called. */
  user: string;
  /** The recipient of a transfer, else ''. */
  to: string;
  amount: bigint;
  code: number;
}

/** Each user's balance in `symbol`, in units. */
export async function balancesOf(app: CryptoEnv, symbol: string): Promise<Map<string, bigint>> {
  const rows = await app.query(
    `SELECT u.username, w."balanceUnits" AS b FROM crypto_wallet w JOIN auth_user u ON u.id = w."userId" JOIN crypto_coin c ON c.id = w."coinId" WHERE c.symbol = '${symbol}' ORDER BY u.username`,
  );
  return new Map(rows.map((r) => [String(r.username), BigInt(String(r.b))] as const));
}

/**
 * The ledger against the calls: each call answered OK has exactly one row, with its kind,
 * wallets and amount; no other call has one (an error reply applied nothing); each balance is
 * the one before plus what those rows moved (nothing else moved money); none is negative.
 */
export async function assertLedgerMatches(
  app: CryptoEnv,
  symbol: string,
  calls: MoneyCall[],
  before: Map<string, bigint>,
  keyPrefix: string,
): Promise<void> {
  const rows = await app.query(
    `SELECT t."idempotencyKey" AS key, t.kind, ru.username AS "user", COALESCE(fu.username, '') AS "from", COALESCE(tu.username, '') AS "to", t."amountUnits" AS amount
     FROM crypto_transfer t JOIN auth_user ru ON ru.id = t."userId"
     LEFT JOIN crypto_wallet fw ON fw.id = t."fromWalletId" LEFT JOIN auth_user fu ON fu.id = fw."userId"
     LEFT JOIN crypto_wallet tw ON tw.id = t."toWalletId" LEFT JOIN auth_user tu ON tu.id = tw."userId"`,
  );
  const byKey = new Map<string, Array<Record<string, unknown>>>();
  for (const r of rows) byKey.set(`${r.user} ${r.key}`, [...(byKey.get(`${r.user} ${r.key}`) ?? []), r]);
  const expected = new Map(before);
  const move = (user: string, units: bigint) => expected.set(user, (expected.get(user) ?? 0n) + units);
  for (const c of calls) {
    const found = byKey.get(`${c.user} ${c.key}`) ?? [];
    if (c.code !== status.OK) {
      assert.equal(found.length, 0, `${c.kind} ${c.key} was answered ${status[c.code]} but is in the ledger`);
      continue;
    }
    assert.equal(found.length, 1, `${c.kind} ${c.key} was answered OK: ${found.length} ledger rows`);
    const [from, to] = c.kind === 'transfer' ? [c.user, c.to] : c.kind === 'deposit' ? ['', c.user] : [c.user, ''];
    assert.deepEqual(found[0], { key: c.key, kind: c.kind, user: c.user, from, to, amount: String(c.amount) }, `ledger row of ${c.key}`);
    if (from) move(from, -c.amount);
    if (to) move(to, c.amount);
  }
  const made = new Set(calls.map((c) => `${c.user} ${c.key}`));
  assert.deepEqual(
    rows.filter((r) => String(r.key).startsWith(keyPrefix) && !made.has(`${r.user} ${r.key}`)),
    [],
    'ledger rows for calls never made',
  );
  assert.deepEqual(await balancesOf(app, symbol), expected, `every ${symbol} balance is the one before plus what the ledger moved`);
  assert.equal((await app.query('SELECT COUNT(*) AS n FROM crypto_wallet WHERE "balanceUnits" < 0'))[0]!.n, '0', 'a negative balance');
}
