import { GrpcError, Status, type AuthUser } from 'cfg';
import type { Db } from 'cfg';
import { TRANSFER_INCLUDE, type TransferRow, WALLET_INCLUDE, type WalletRow } from './converters.ts';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/** What one money operation asks for; compared with the stored row when a key is replayed. */
export interface Operation {
  kind: 'transfer' | 'deposit' | 'withdraw';
  symbol: string;
  amount: bigint;
  idempotencyKey: string;
  toUsername?: string;
}

export interface OperationResult {
  transfer: TransferRow;
  /** The caller's wallet after the operation. */
  wallet: WalletRow | null;
  replayed: boolean;
}

const RETRYABLE = new Set(['P2034', '40001', '40P01']);

function isRetryable(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string; originalCode?: string; kind?: string }; message?: string };
  if (e.code && RETRYABLE.has(e.code)) return true;
  const c = e.cause;
  if (c && ((c.originalCode && RETRYABLE.has(c.originalCode)) || c.kind === 'TransactionWriteConflict')) return true;
  return /deadlock detected|could not serialize|SQLITE_BUSY|database is locked/i.test(e.message ?? '');
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === 'P2002';
}

/** Runs `fn` in a transaction, retrying write conflicts and deadlocks (never surfacing them as INTERNAL). */
async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(fn, { timeout: 10_000, maxWait: 10_000 });
    } catch (err) {
      if (attempt >= 8 || !isRetryable(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
  }
}

/** The stored result of an earlier call with the same key, or null. A key reused for another request is ALREADY_EXISTS. */
async function replayOf(db: Db, user: AuthUser, op: Operation): Promise<OperationResult | null> {
  const row = await db.transfer.findUnique({
    where: { userId_idempotencyKey: { userId: user.id, idempotencyKey: op.idempotencyKey } },
    include: TRANSFER_INCLUDE,
  });
  if (!row) return null;
  const same =
    row.kind === op.kind &&
    row.coin.symbol === op.symbol &&
    row.amountUnits === op.amount &&
    (op.kind !== 'transfer' || row.toWallet?.user.username === op.toUsername);
  if (!same) {
    throw new GrpcError(Status.ALREADY_EXISTS, `idempotency_key ${op.idempotencyKey} was already used for a different request`);
  }
  const walletId = op.kind === 'deposit' ? row.toWalletId : row.fromWalletId;
  const wallet = walletId === null ? null : await db.wallet.findUnique({ where: { id: walletId }, include: WALLET_INCLUDE });
  return { transfer: row, wallet, replayed: true };
}

async function activeCoin(tx: Tx, symbol: string) {
  const coin = await tx.coin.findUnique({ where: { symbol }, select: { id: true, isActive: true } });
  if (!coin || !coin.isActive) throw new GrpcError(Status.NOT_FOUND, `Coin ${symbol} not found`);
  return coin;
}

async function debit(tx: Tx, userId: number, coinId: number, symbol: string, amount: bigint): Promise<number> {
  const wallet = await tx.wallet.findUnique({ where: { userId_coinId: { userId, coinId } }, select: { id: true } });
  if (!wallet) throw new GrpcError(Status.FAILED_PRECONDITION, `You have no ${symbol} wallet`);
  // One conditional statement: the balance check and the debit cannot be separated by another write.
  const { count } = await tx.wallet.updateMany({
    where: { id: wallet.id, balanceUnits: { gte: amount } },
    data: { balanceUnits: { decrement: amount } },
  });
  if (count !== 1) throw new GrpcError(Status.FAILED_PRECONDITION, `Insufficient ${symbol} balance`);
  return wallet.id;
}

async function credit(tx: Tx, userId: number, coinId: number, amount: bigint): Promise<number> {
  const wallet = await tx.wallet.upsert({
    where: { userId_coinId: { userId, coinId } },
    create: { userId, coinId, balanceUnits: amount },
    update: { balanceUnits: { increment: amount } },
    select: { id: true },
  });
  return wallet.id;
}

/**
 * Applies a transfer, deposit or withdrawal exactly once per (user, idempotency key):
 * one transaction moves the money and writes the ledger row; a retry with the same key
 * returns the stored result with replayed = true.
 */
export async function applyOperation(db: Db, user: AuthUser, op: Operation): Promise<OperationResult> {
  const earlier = await replayOf(db, user, op);
  if (earlier) return earlier;
  try {
    const transfer = await inTransaction(db, async (tx) => {
      const coin = await activeCoin(tx, op.symbol);
      let fromWalletId: number | null = null;
      let toWalletId: number | null = null;
      if (op.kind === 'transfer') {
        const recipient = await tx.user.findUnique({ where: { username: op.toUsername! }, select: { id: true, isActive: true } });
        if (!recipient || !recipient.isActive) throw new GrpcError(Status.NOT_FOUND, `User ${op.toUsername} not found`);
        if (recipient.id === user.id) throw new GrpcError(Status.INVALID_ARGUMENT, 'Cannot transfer to yourself');
        fromWalletId = await debit(tx, user.id, coin.id, op.symbol, op.amount);
        toWalletId = await credit(tx, recipient.id, coin.id, op.amount);
      } else if (op.kind === 'deposit') {
        toWalletId = await credit(tx, user.id, coin.id, op.amount);
      } else {
        fromWalletId = await debit(tx, user.id, coin.id, op.symbol, op.amount);
      }
      return tx.transfer.create({
        data: { kind: op.kind, idempotencyKey: op.idempotencyKey, userId: user.id, coinId: coin.id, fromWalletId, toWalletId, amountUnits: op.amount },
        include: TRANSFER_INCLUDE,
      });
    });
    const walletId = op.kind === 'deposit' ? transfer.toWalletId : transfer.fromWalletId;
    const wallet = walletId === null ? null : await db.wallet.findUnique({ where: { id: walletId }, include: WALLET_INCLUDE });
    return { transfer, wallet, replayed: false };
  } catch (err) {
    // Two concurrent calls with one key: the loser's ledger insert violates the unique key and
    // its transaction rolls back; it answers with the winner's result.
    if (isUniqueViolation(err)) {
      const winner = await replayOf(db, user, op);
      if (winner) return winner;
    }
    throw err;
  }
}
