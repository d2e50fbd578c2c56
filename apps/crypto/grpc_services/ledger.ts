import { GrpcError, Status, type AuthUser } from 'cfg-grpc';
import { sqlDriver, type Db } from 'cfg-grpc/db';
import type { TransferRow, WalletRow } from './converters.ts';
import type { Cancellation, LedgerEngine, LedgerRow } from './ledger-item.ts';
import { formatDecimal, MAX_UNITS, UNIT_SCALE } from './money.ts';

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

// One engine per client: PostgreSQL batches concurrent operations into one call of a database
// function (ledger-pg.ts), SQLite into one write transaction on a writer thread (ledger-sqlite.ts).
const engines = new WeakMap<Db, Promise<LedgerEngine>>();

function engineFor(db: Db): Promise<LedgerEngine> {
  let engine = engines.get(db);
  if (!engine) {
    const driver = sqlDriver(db);
    engine =
      driver.provider === 'postgresql'
        ? import('./ledger-pg.ts').then(({ PgLedger }) => new PgLedger(driver.pool))
        : import('./ledger-sqlite.ts').then(({ SqliteLedger }) => new SqliteLedger(driver.file));
    engines.set(db, engine);
  }
  return engine;
}

const sameRequest = (row: TransferRow, op: Operation) =>
  row.kind === op.kind && row.coin.symbol === op.symbol && row.amountUnits === op.amount && (op.kind !== 'transfer' || row.toWallet?.user.username === op.toUsername);

/** The reply for an outcome, or the error that says why nothing was applied. */
function resultOf(op: Operation, row: LedgerRow): OperationResult {
  const { symbol } = op;
  switch (row.outcome) {
    case 'applied':
      return { transfer: row.transfer!, wallet: row.wallet, replayed: false };
    case 'replay':
      if (!sameRequest(row.transfer!, op)) {
        throw new GrpcError(Status.ALREADY_EXISTS, `idempotency_key ${op.idempotencyKey} was already used for a different request`);
      }
      return { transfer: row.transfer!, wallet: row.wallet, replayed: true };
    case 'no_caller':
      throw new GrpcError(Status.UNAUTHENTICATED, 'Your user no longer exists or is inactive');
    case 'no_coin':
      throw new GrpcError(Status.NOT_FOUND, `Coin ${symbol} not found`);
    case 'no_recipient':
      throw new GrpcError(Status.NOT_FOUND, `User ${op.toUsername} not found`);
    case 'self':
      throw new GrpcError(Status.INVALID_ARGUMENT, 'Cannot transfer to yourself');
    case 'no_wallet':
      throw new GrpcError(Status.FAILED_PRECONDITION, `You have no ${symbol} wallet`);
    case 'insufficient':
      throw new GrpcError(Status.FAILED_PRECONDITION, `Insufficient ${symbol} balance`);
    case 'overflow':
      throw new GrpcError(
        Status.OUT_OF_RANGE,
        `${op.kind === 'transfer' ? `${op.toUsername}'s` : 'Your'} ${symbol} balance would exceed ${formatDecimal(MAX_UNITS, UNIT_SCALE)}, the most a wallet can hold`,
      );
  }
}

/**
 * Applies a transfer, deposit or withdrawal exactly once per (user, idempotency key): the money
 * moves and the ledger row is written in one transaction; a retry with the same key returns the
 * stored result with replayed = true, and the same key for another request is ALREADY_EXISTS.
 * Every error means nothing was applied (see LedgerEngine for the one exception, a connection
 * lost mid-commit whose outcome could not be learned again).
 */
export async function applyOperation(db: Db, user: AuthUser, op: Operation, signal?: Cancellation): Promise<OperationResult> {
  const engine = await engineFor(db);
  const row = await engine.apply(
    { kind: op.kind, userId: user.id, idempotencyKey: op.idempotencyKey, symbol: op.symbol, amount: op.amount, toUsername: op.toUsername ?? null },
    signal,
  );
  return resultOf(op, row);
}
