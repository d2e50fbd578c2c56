import Database, { type Statement } from 'better-sqlite3';
import { ledgerRowOf, type Cancellation, type LedgerEngine, type LedgerItem, type LedgerRow, type Outcome, type OutcomeColumns } from './ledger-item.ts';
import { MAX_UNITS } from './money.ts';
import { PendingQueue } from './ledger-queue.ts';

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

/** How long an operation keeps waiting while another connection (another process) holds the write lock. */
const BUSY_LIMIT_MS = 5_000;
/** Most operations in one transaction. */
const MAX_BATCH = 256;
/** Operations waiting for their transaction; past that a call is refused at once. */
const MAX_QUEUE = 4096;

type Row = Record<string, unknown>;
type Applied = { outcome: Outcome; transferId: bigint | null } | { error: unknown };

/**
 * SQLite's money path, a writer queue: the operations that arrive in one turn of the event loop
 * are applied in one synchronous write transaction (BEGIN IMMEDIATE, a few statements each,
 * COMMIT), on a connection of the ledger's own. It never spans an await, so nothing interleaves
 * with it and no lock is held across one; one commit (one fsync) serves the whole batch. Each
 * operation succeeds or fails on its own: its checks come before its writes, and it runs in a
 * savepoint, so an unexpected error undoes it alone. SQLite has one writer: when another process
 * holds the write lock, the batch waits on a timer, never by blocking the event loop (busy_timeout
 * 0), and an operation still waiting after BUSY_LIMIT_MS answers UNAVAILABLE "Database busy"
 * (retryable; not an outage). Amounts are added in BigInt and checked against MAX_UNITS before
 * they are written; the tables' CHECK constraints refuse anything else.
 */
export class SqliteLedger implements LedgerEngine {
  private readonly db: Database.Database;
  private readonly sql: Record<'earlier' | 'caller' | 'coin' | 'user' | 'wallet' | 'createWallet' | 'setBalance' | 'insert' | 'result', Statement>;
  private readonly runBatch: (items: LedgerItem[]) => Applied[];
  private readonly queue = new PendingQueue(MAX_QUEUE);
  private scheduled = false;
  /** Consecutive batches that found the database locked: the next wait doubles, up to 20 ms. */
  private busyRuns = 0;

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
    // Nested in the batch's transaction, better-sqlite3 runs each operation in a savepoint.
    const applyOne = this.db.transaction((item: LedgerItem) => this.applyInTransaction(item));
    this.runBatch = this.db.transaction((items: LedgerItem[]): Applied[] =>
      items.map((item) => {
        try {
          return applyOne(item);
        } catch (error) {
          return { error };
        }
      }),
    ).immediate;
  }

  apply(item: LedgerItem, signal?: Cancellation): Promise<LedgerRow> {
    return this.queue.add(item, signal, () => this.schedule(0));
  }

  private schedule(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.flush();
    };
    if (delayMs === 0) setImmediate(run);
    else setTimeout(run, delayMs);
  }

  /** Applies the next batch in one transaction and settles each operation; never throws. */
  private flush(): void {
    const batch = this.queue.take(MAX_BATCH);
    if (batch.length === 0) return;
    let applied: Applied[];
    try {
      applied = this.runBatch(batch.map((p) => p.item));
      this.busyRuns = 0;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') {
        for (const p of batch) p.reject(err); // the transaction rolled back: nothing was applied
      } else {
        // Another connection writes: wait for it, on a timer; past the limit, give up.
        const now = performance.now();
        for (const p of batch) if (now - p.since > BUSY_LIMIT_MS) p.reject(err);
        this.queue.putBack(batch.filter((p) => now - p.since <= BUSY_LIMIT_MS));
        this.busyRuns++;
        this.schedule(Math.min(2 ** (this.busyRuns - 1), 20));
        return;
      }
      applied = [];
    }
    applied.forEach((a, i) => {
      const p = batch[i]!;
      try {
        if ('error' in a) p.reject(a.error);
        else if (a.transferId === null) p.resolve({ outcome: a.outcome, transfer: null, wallet: null });
        else p.resolve(ledgerRowOf({ ...(this.sql.result.get(a.transferId) as OutcomeColumns), outcome: a.outcome }));
      } catch (err) {
        p.reject(err); // committed, but its row could not be read back: the client may retry with its key
      }
    });
    if (this.queue.length > 0) this.schedule(0);
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
