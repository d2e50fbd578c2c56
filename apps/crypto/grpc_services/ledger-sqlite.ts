import Database, { type Statement } from 'better-sqlite3';
import { GrpcError, Status } from 'cfg';
import { ledgerRowOf, type Cancellation, type LedgerEngine, type LedgerItem, type LedgerRow, type Outcome, type OutcomeColumns } from './ledger-item.ts';
import { MAX_UNITS } from './money.ts';

/** The ledger row, its coin and the caller's wallet, in the columns crypto_apply_operations returns on PostgreSQL. */
const RESULT = `SELECT t.id AS transfer_id, t.kind AS transfer_kind, t."idempotencyKey" AS transfer_key, t."amountUnits" AS transfer_amount,
  t."createdAt" AS transfer_created, fu.username AS from_username, tu.username AS to_username,
  w.id AS wallet_id, w."balanceUnits" AS wallet_balance, w."createdAt" AS wallet_created, w."updatedAt" AS wallet_updated, wu.username AS wallet_username,
  c.id AS coin_id, c.symbol AS coin_symbol, c.name AS coin_name, c."priceUnits" AS coin_price, c."marketCapCents" AS coin_cap,
  c."volume24hCents" AS coin_volume, c."change24hBps" AS coin_change, c."isActive" AS coin_active, c."createdAt" AS coin_created, c."updatedAt" AS coin_updated
FROM crypto_transfer t
JOIN crypto_coin c ON c.id = t."coinId"
LEFT JOIN crypto_wallet fw ON fw.id = t."fromWalletId"
LEFT JOIN auth_user fu ON fu.id = fw."userId"
LEFT JOIN crypto_wallet tw ON tw.id = t."toWalletId"
LEFT JOIN auth_user tu ON tu.id = tw."userId"
LEFT JOIN crypto_wallet w ON w.id = CASE WHEN t.kind = 'deposit' THEN t."toWalletId" ELSE t."fromWalletId" END
LEFT JOIN auth_user wu ON wu.id = w."userId"
WHERE t.id = ?`;

/** How long a call keeps trying while another connection (another process) holds the write lock. */
const BUSY_LIMIT_MS = 5_000;

type Row = Record<string, unknown>;

/**
 * SQLite's money path: each operation is one synchronous write transaction (BEGIN IMMEDIATE, a
 * few statements, COMMIT) on a connection of its own, so it never spans an await: within the
 * process nothing can interleave with it and no row lock is ever waited for. SQLite has one
 * writer: when another process holds the write lock, the call waits on a timer, not by blocking
 * the event loop (busy_timeout 0), and after BUSY_LIMIT_MS answers UNAVAILABLE "Database busy"
 * (retryable; not an outage). Amounts are added in BigInt and checked against MAX_UNITS before
 * they are written; the table's CHECK constraints refuse anything else.
 */
export class SqliteLedger implements LedgerEngine {
  private readonly db: Database.Database;
  private readonly sql: Record<'earlier' | 'caller' | 'coin' | 'user' | 'wallet' | 'createWallet' | 'setBalance' | 'insert' | 'result', Statement>;
  private readonly run: (item: LedgerItem) => { outcome: Outcome; transferId: bigint | null };

  constructor(file: string) {
    this.db = new Database(file, { fileMustExist: true, timeout: 0 });
    this.db.defaultSafeIntegers(true);
    this.db.pragma('foreign_keys = ON');
    const p = (sql: string) => this.db.prepare(sql);
    this.sql = {
      earlier: p('SELECT id FROM crypto_transfer WHERE "userId" = ? AND "idempotencyKey" = ?').pluck(),
      coin: p('SELECT id FROM crypto_coin WHERE symbol = ? AND "isActive"').pluck(),
      user: p('SELECT id FROM auth_user WHERE username = ? AND "isActive"').pluck(),
      caller: p('SELECT 1 FROM auth_user WHERE id = ? AND "isActive"').pluck(),
      wallet: p('SELECT id, "balanceUnits" AS balance FROM crypto_wallet WHERE "userId" = ? AND "coinId" = ?'),
      createWallet: p('INSERT INTO crypto_wallet ("userId", "coinId", "balanceUnits", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?)'),
      setBalance: p('UPDATE crypto_wallet SET "balanceUnits" = ?, "updatedAt" = ? WHERE id = ?'),
      insert: p(
        'INSERT INTO crypto_transfer (kind, "idempotencyKey", "userId", "coinId", "fromWalletId", "toWalletId", "amountUnits", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      result: p(RESULT),
    };
    this.run = this.db.transaction((item: LedgerItem) => this.applyInTransaction(item)).immediate;
  }

  async apply(item: LedgerItem, signal?: Cancellation): Promise<LedgerRow> {
    const started = performance.now();
    for (let delay = 0; ; delay = Math.min(Math.max(1, delay * 2), 20)) {
      if (signal?.aborted) throw new GrpcError(Status.CANCELLED, 'Call cancelled before it was applied; nothing was applied');
      try {
        const { outcome, transferId } = this.run(item);
        if (transferId === null) return { outcome, transfer: null, wallet: null };
        return ledgerRowOf({ ...(this.sql.result.get(transferId) as OutcomeColumns), outcome });
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY' || performance.now() - started > BUSY_LIMIT_MS) throw err;
      }
      await new Promise((resolve) => (delay === 0 ? setImmediate(resolve) : setTimeout(resolve, delay)));
    }
  }

  private applyInTransaction(item: LedgerItem): { outcome: Outcome; transferId: bigint | null } {
    const { sql } = this;
    const earlier = sql.earlier.get(item.userId, item.idempotencyKey) as bigint | undefined;
    if (earlier !== undefined) return { outcome: 'replay', transferId: earlier };
    const fail = (outcome: Outcome) => ({ outcome, transferId: null });
    if (sql.caller.get(item.userId) === undefined) return fail('no_caller');
    const coinId = sql.coin.get(item.symbol) as bigint | undefined;
    if (coinId === undefined) return fail('no_coin');
    let creditUser: bigint | number | undefined = item.kind === 'deposit' ? item.userId : undefined;
    if (item.kind === 'transfer') {
      creditUser = sql.user.get(item.toUsername) as bigint | undefined;
      if (creditUser === undefined) return fail('no_recipient');
      if (Number(creditUser) === item.userId) return fail('self');
    }
    const from = item.kind === 'deposit' ? undefined : (sql.wallet.get(item.userId, coinId) as Row | undefined);
    if (item.kind !== 'deposit') {
      if (!from) return fail('no_wallet');
      if ((from.balance as bigint) < item.amount) return fail('insufficient');
    }
    const to = creditUser === undefined ? undefined : (sql.wallet.get(creditUser, coinId) as Row | undefined);
    if (to && (to.balance as bigint) > MAX_UNITS - item.amount) return fail('overflow');

    const now = new Date().toISOString().replace('Z', '+00:00');
    if (from) sql.setBalance.run((from.balance as bigint) - item.amount, now, from.id);
    let toId = to?.id as bigint | undefined;
    if (creditUser !== undefined) {
      if (to) sql.setBalance.run((to.balance as bigint) + item.amount, now, to.id);
      else toId = BigInt(sql.createWallet.run(creditUser, coinId, item.amount, now, now).lastInsertRowid);
    }
    const { lastInsertRowid } = sql.insert.run(item.kind, item.idempotencyKey, item.userId, coinId, from?.id ?? null, toId ?? null, item.amount, now);
    return { outcome: 'applied', transferId: BigInt(lastInsertRowid) };
  }
}
