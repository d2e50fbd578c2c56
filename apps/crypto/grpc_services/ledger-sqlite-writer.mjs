// The crypto ledger's SQLite writer thread (plain JavaScript: a worker does not inherit the tsx
// loader; ledger-sqlite.ts starts it and documents the design). It owns one better-sqlite3
// connection and applies each batch it is sent in one write transaction, each operation in a
// savepoint after its own checks, then reads back each result row; and each batch of prices
// (ImportPrices) in one write transaction, all or nothing.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { file, busyTimeoutMs, maxUnits } = workerData;

/** The ledger row, its coin and the caller's wallet, in the columns crypto_apply_operations returns on PostgreSQL. */
const RESULT = `SELECT t.id AS transfer_id, t.kind AS transfer_kind, t."idempotencyKey" AS transfer_key, t."amountUnits" AS transfer_amount,
  t."createdAt" AS transfer_created, fu.username AS from_username, tu.username AS to_username,
  w.id AS wallet_id, w."balanceUnits" AS wallet_balance, w."createdAt" AS wallet_created, w."updatedAt" AS wallet_updated, wu.username AS wallet_username,
  c.id AS coin_id, c.symbol AS coin_symbol, c.name AS coin_name, c."priceUnits" AS coin_price, c."marketCapCents" AS coin_cap,
  c."volume24hCents" AS coin_volume, c."change24hBps" AS coin_change, c."isActive" AS coin_active, c."createdAt" AS coin_created, c."updatedAt" AS coin_updated,
  qc.symbol AS quote_symbol, t."quoteAmountUnits" AS quote_amount, t."priceUnits" AS trade_price, qw."balanceUnits" AS quote_balance
FROM crypto_transfer t
JOIN crypto_coin c ON c.id = t."coinId"
LEFT JOIN crypto_wallet fw ON fw.id = t."fromWalletId"
LEFT JOIN auth_user fu ON fu.id = fw."userId"
LEFT JOIN crypto_wallet tw ON tw.id = t."toWalletId"
LEFT JOIN auth_user tu ON tu.id = tw."userId"
LEFT JOIN crypto_wallet w ON w.id = CASE WHEN t.kind IN ('deposit', 'buy') THEN t."toWalletId" ELSE t."fromWalletId" END
LEFT JOIN auth_user wu ON wu.id = w."userId"
LEFT JOIN crypto_wallet qw ON qw.id = t."quoteWalletId"
LEFT JOIN crypto_coin qc ON qc.id = qw."coinId"
WHERE t.id = ?`;

/** A coin as a price batch left it, in the columns both engines return. */
const COIN = `SELECT id, symbol, name, "priceUnits" AS price, "marketCapCents" AS cap, "volume24hCents" AS volume, "change24hBps" AS change,
  "isActive" AS active, "createdAt" AS created, "updatedAt" AS updated FROM crypto_coin WHERE symbol = ?`;
const UNIT = 100_000_000n;

/** An error as it crosses to the main thread: its message and its SQLite code (SQLITE_BUSY...). */
const describe = (err) => ({ message: String(err?.message ?? err), code: typeof err?.code === 'string' ? err.code : undefined });

let sql;
let runBatch;
let runPrices;
/** The time as Prisma writes it on SQLite (ISO 8601 with an offset). */
const timestamp = () => new Date().toISOString().replace('Z', '+00:00');
try {
  const db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
  db.defaultSafeIntegers(true);
  db.pragma('foreign_keys = ON');
  // Money is durable once answered: each commit reaches the disk (WAL's default, NORMAL, may lose
  // the last commits on power loss). The fsync happens on this thread, not the server's.
  db.pragma('synchronous = FULL');
  const p = (text) => db.prepare(text);
  sql = {
    earlier: p('SELECT id FROM crypto_transfer WHERE "userId" = ? AND "idempotencyKey" = ?').pluck(),
    caller: p('SELECT 1 FROM auth_user WHERE id = ? AND "isActive"').pluck(),
    coin: p('SELECT id FROM crypto_coin WHERE symbol = ? AND "isActive"').pluck(),
    coinPriced: p('SELECT id, "priceUnits" AS price FROM crypto_coin WHERE symbol = ? AND "isActive"'),
    user: p('SELECT id FROM auth_user WHERE username = ? AND "isActive"').pluck(),
    wallet: p('SELECT id, "balanceUnits" AS balance FROM crypto_wallet WHERE "userId" = ? AND "coinId" = ?'),
    createWallet: p('INSERT INTO crypto_wallet ("userId", "coinId", "balanceUnits", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?)'),
    setBalance: p('UPDATE crypto_wallet SET "balanceUnits" = ?, "updatedAt" = ? WHERE id = ?'),
    insert: p(
      'INSERT INTO crypto_transfer (kind, "idempotencyKey", "userId", "coinId", "fromWalletId", "toWalletId", "amountUnits", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertTrade: p(
      'INSERT INTO crypto_transfer (kind, "idempotencyKey", "userId", "coinId", "fromWalletId", "toWalletId", "amountUnits", "quoteWalletId", "quoteAmountUnits", "priceUnits", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    result: p(RESULT),
    setPrice: p(
      'UPDATE crypto_coin SET "priceUnits" = ?, "change24hBps" = COALESCE(?, "change24hBps"), "updatedAt" = ? WHERE symbol = ? AND "isActive"',
    ),
    coinRow: p(COIN),
  };
  // Nested in the batch's transaction, better-sqlite3 runs each operation in a savepoint.
  const applyOne = db.transaction((item) =>
    item.kind === 'buy' || item.kind === 'sell' ? tradeInTransaction(item) : applyInTransaction(item),
  );
  runBatch = db.transaction((items) =>
    items.map((item) => {
      try {
        return applyOne(item);
      } catch (err) {
        return { error: describe(err) };
      }
    }),
  ).immediate;
  runPrices = db.transaction((ticks) => {
    const now = timestamp();
    for (const t of ticks) {
      if (sql.setPrice.run(t.price, t.changeBps, now, t.symbol).changes === 0)
        throw Object.assign(new Error(`no coin ${t.symbol}`), { missing: t.symbol });
    }
    return ticks.map((t) => sql.coinRow.get(t.symbol));
  }).immediate;
  parentPort.postMessage({ ready: true });
} catch (err) {
  parentPort.postMessage({ ready: false, error: describe(err) });
}

/** One operation: every check first, then its writes; returns its outcome and ledger row id. */
function applyInTransaction(item) {
  const earlier = sql.earlier.get(item.userId, item.idempotencyKey);
  if (earlier !== undefined) return { outcome: 'replay', transferId: earlier };
  const fail = (outcome) => ({ outcome, transferId: null });
  if (sql.caller.get(item.userId) === undefined) return fail('no_caller');
  const coinId = sql.coin.get(item.symbol);
  if (coinId === undefined) return fail('no_coin');
  let creditUser = item.kind === 'deposit' ? item.userId : undefined;
  if (item.kind === 'transfer') {
    creditUser = sql.user.get(item.toUsername);
    if (creditUser === undefined) return fail('no_recipient');
    if (Number(creditUser) === item.userId) return fail('self');
  }
  const from = item.kind === 'deposit' ? undefined : sql.wallet.get(item.userId, coinId);
  if (item.kind !== 'deposit') {
    if (!from) return fail('no_wallet');
    if (from.balance < item.amount) return fail('insufficient');
  }
  const to = creditUser === undefined ? undefined : sql.wallet.get(creditUser, coinId);
  if (to && to.balance > maxUnits - item.amount) return fail('overflow');

  const now = timestamp();
  if (from) sql.setBalance.run(from.balance - item.amount, now, from.id);
  let toId = to?.id;
  if (creditUser !== undefined) {
    if (to) sql.setBalance.run(to.balance + item.amount, now, to.id);
    else toId = BigInt(sql.createWallet.run(creditUser, coinId, item.amount, now, now).lastInsertRowid);
  }
  const { lastInsertRowid } = sql.insert.run(
    item.kind,
    item.idempotencyKey,
    item.userId,
    coinId,
    from?.id ?? null,
    toId ?? null,
    item.amount,
    now,
  );
  return { outcome: 'applied', transferId: BigInt(lastInsertRowid) };
}

/**
 * A trade between two wallets of the caller at the coin's price as this transaction reads it (see
 * docs/money.md): a buy debits the quote wallet ceil(quantity x price / 10^8) and credits the coin
 * wallet the quantity; a sell debits the coin wallet and credits the quote wallet floor(...). The
 * wallet credited is created when missing. Every check first, then its writes.
 */
function tradeInTransaction(item) {
  const earlier = sql.earlier.get(item.userId, item.idempotencyKey);
  if (earlier !== undefined) return { outcome: 'replay', transferId: earlier };
  const fail = (outcome) => ({ outcome, transferId: null });
  if (sql.caller.get(item.userId) === undefined) return fail('no_caller');
  const coin = sql.coinPriced.get(item.symbol);
  if (coin === undefined) return fail('no_coin');
  const quoteId = sql.coin.get(item.quoteSymbol);
  if (quoteId === undefined) return fail('no_quote');
  if (quoteId === coin.id) return fail('self');
  const price = coin.price;
  if (price === 0n) return fail('no_price');
  const buy = item.kind === 'buy';
  if (item.limitPrice !== null && (buy ? price > item.limitPrice : price < item.limitPrice)) return fail('price_limit');
  const exact = item.amount * price;
  const value = buy ? (exact + UNIT - 1n) / UNIT : exact / UNIT;
  if (value === 0n) return fail('too_small');
  if (value > maxUnits) return fail('overflow');
  // Money leaves `from` and reaches `to`: the quote wallet and the coin wallet, one way or the other.
  const [fromCoin, fromAmount, toCoin, toAmount] = buy ? [quoteId, value, coin.id, item.amount] : [coin.id, item.amount, quoteId, value];
  const from = sql.wallet.get(item.userId, fromCoin);
  if (!from) return fail('no_wallet');
  if (from.balance < fromAmount) return fail('insufficient');
  const to = sql.wallet.get(item.userId, toCoin);
  if (to && to.balance > maxUnits - toAmount) return fail('overflow');

  const now = timestamp();
  sql.setBalance.run(from.balance - fromAmount, now, from.id);
  let toId = to?.id;
  if (to) sql.setBalance.run(to.balance + toAmount, now, to.id);
  else toId = BigInt(sql.createWallet.run(item.userId, toCoin, toAmount, now, now).lastInsertRowid);
  const [coinFrom, coinTo, quoteWallet] = buy ? [null, toId, from.id] : [from.id, null, toId];
  const { lastInsertRowid } = sql.insertTrade.run(
    item.kind,
    item.idempotencyKey,
    item.userId,
    coin.id,
    coinFrom,
    coinTo,
    item.amount,
    quoteWallet,
    value,
    price,
    now,
  );
  return { outcome: 'applied', transferId: BigInt(lastInsertRowid) };
}

parentPort.on('message', ({ id, items, prices }) => {
  if (prices) {
    try {
      parentPort.postMessage({ id, coins: runPrices(prices) });
    } catch (err) {
      // Rolled back: nothing of the batch was written.
      parentPort.postMessage(err?.missing ? { id, missing: err.missing } : { id, error: describe(err) });
    }
    return;
  }
  let applied;
  try {
    applied = runBatch(items);
  } catch (err) {
    parentPort.postMessage({ id, error: describe(err) }); // rolled back: nothing was applied
    return;
  }
  const results = applied.map((a) => {
    if (a.error) return a;
    if (a.transferId === null) return { outcome: a.outcome };
    try {
      return { outcome: a.outcome, columns: sql.result.get(a.transferId) };
    } catch (err) {
      return { error: describe(err), committed: true };
    }
  });
  parentPort.postMessage({ id, results });
});
