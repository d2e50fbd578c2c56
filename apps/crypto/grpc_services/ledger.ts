import { GrpcError, Status, type AuthUser } from 'cfg-grpc';
import { sqlDriver, type Db } from 'cfg-grpc/db';
import type { TransferRow, WalletRow } from './converters.ts';
import type { Cancellation, LedgerEngine, LedgerRow, PricesResult, PriceTick, TradeLeg } from './ledger-item.ts';
import { formatDecimal, MAX_UNITS, UNIT_SCALE } from './money.ts';

/** The coin trades are paid in: a buy debits the caller's USDT wallet, a sell credits it. */
export const QUOTE_SYMBOL = 'USDT';

/** What one money operation asks for; compared with the stored row when a key is replayed. */
export interface Operation {
  /** buy and sell: a Trade order (amount: the quantity of `symbol`), paid in QUOTE_SYMBOL. */
  kind: 'transfer' | 'deposit' | 'withdraw' | 'buy' | 'sell';
  symbol: string;
  amount: bigint;
  idempotencyKey: string;
  toUsername?: string;
  /** Trades only, optional: the worst price accepted (units of USDT per coin). */
  limitPrice?: bigint;
}

export interface OperationResult {
  transfer: TransferRow;
  /** The caller's wallet after the operation (for a trade, its wallet of the coin traded). */
  wallet: WalletRow | null;
  /** A trade's quote leg: price, USDT paid or received, the USDT balance after. */
  trade: TradeLeg | null;
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

// A trade is the same order when its side, coin and quantity are: its limit price is not kept (a
// fill met it, whatever the limit sent again).
const sameRequest = (row: TransferRow, op: Operation) =>
  row.kind === op.kind &&
  row.coin.symbol === op.symbol &&
  row.amountUnits === op.amount &&
  (op.kind !== 'transfer' || row.toWallet?.user.username === op.toUsername);

const isTrade = (op: Operation) => op.kind === 'buy' || op.kind === 'sell';

/** The reply for an outcome, or the error that says why nothing was applied. */
function resultOf(op: Operation, row: LedgerRow): OperationResult {
  const { symbol } = op;
  // The wallet a trade debits: USDT for a buy, the coin for a sell.
  const debited = op.kind === 'buy' ? QUOTE_SYMBOL : symbol;
  const key = isTrade(op) ? 'client_order_id' : 'idempotency_key';
  switch (row.outcome) {
    case 'applied':
      return { transfer: row.transfer!, wallet: row.wallet, trade: row.trade, replayed: false };
    case 'replay':
      if (!sameRequest(row.transfer!, op)) {
        throw new GrpcError(
          Status.ALREADY_EXISTS,
          `${key} ${op.idempotencyKey} was already used for a different ${isTrade(op) ? 'order or operation' : 'request'}`,
        );
      }
      return { transfer: row.transfer!, wallet: row.wallet, trade: row.trade, replayed: true };
    case 'no_caller':
      throw new GrpcError(Status.UNAUTHENTICATED, 'Your user no longer exists or is inactive');
    case 'no_coin':
      throw new GrpcError(Status.NOT_FOUND, `Coin ${symbol} not found`);
    case 'no_recipient':
      throw new GrpcError(Status.NOT_FOUND, `User ${op.toUsername} not found`);
    case 'self':
      throw new GrpcError(Status.INVALID_ARGUMENT, 'Cannot transfer to yourself');
    case 'no_wallet':
      throw new GrpcError(Status.FAILED_PRECONDITION, `You have no ${debited} wallet`);
    case 'insufficient':
      throw new GrpcError(Status.FAILED_PRECONDITION, `Insufficient ${debited} balance`);
    case 'overflow':
      throw new GrpcError(
        Status.OUT_OF_RANGE,
        isTrade(op)
          ? `The order's ${symbol} or ${QUOTE_SYMBOL} amount would take a balance past ${formatDecimal(MAX_UNITS, UNIT_SCALE)}, the most a wallet can hold`
          : `${op.kind === 'transfer' ? `${op.toUsername}'s` : 'Your'} ${symbol} balance would exceed ${formatDecimal(MAX_UNITS, UNIT_SCALE)}, the most a wallet can hold`,
      );
    case 'no_quote':
      throw new GrpcError(
        Status.FAILED_PRECONDITION,
        `Coin ${QUOTE_SYMBOL}, which trades are paid in, is not listed: no trade can be made`,
      );
    case 'no_price':
      throw new GrpcError(Status.FAILED_PRECONDITION, `Coin ${symbol} has no price (0): it cannot be traded`);
    case 'price_limit':
      throw new GrpcError(
        Status.FAILED_PRECONDITION,
        `The ${symbol} price is ${op.kind === 'buy' ? 'above' : 'below'} the order's limit of ${formatDecimal(op.limitPrice ?? 0n, UNIT_SCALE)}`,
      );
    case 'too_small':
      throw new GrpcError(Status.INVALID_ARGUMENT, `The order's value rounds down to 0 ${QUOTE_SYMBOL}: sell more`);
  }
}

/**
 * Applies a transfer, deposit, withdrawal or trade (a buy or sell paid in QUOTE_SYMBOL, at the
 * coin's price read in the same transaction) exactly once per (user, idempotency key): the money
 * moves and the ledger row is written in one transaction; a retry with the same key returns the
 * stored result with replayed = true, and the same key for another request is ALREADY_EXISTS.
 * Every error means nothing was applied (see LedgerEngine for the one exception, a connection
 * lost mid-commit whose outcome could not be learned again).
 */
export async function applyOperation(db: Db, user: AuthUser, op: Operation, signal?: Cancellation): Promise<OperationResult> {
  const engine = await engineFor(db);
  const row = await engine.apply(
    {
      kind: op.kind,
      userId: user.id,
      idempotencyKey: op.idempotencyKey,
      symbol: op.symbol,
      amount: op.amount,
      toUsername: op.toUsername ?? null,
      quoteSymbol: isTrade(op) ? QUOTE_SYMBOL : null,
      limitPrice: op.limitPrice ?? null,
    },
    signal,
  );
  return resultOf(op, row);
}

/**
 * Writes one ImportPrices batch in one transaction, by the ledger's engine (on SQLite its writer
 * thread: price batches and money batches never overlap, and a trade fills at a price a batch
 * left whole). `missing`: a symbol that names no active coin; then nothing was written.
 */
export async function setPrices(db: Db, ticks: PriceTick[]): Promise<PricesResult> {
  return (await engineFor(db)).setPrices(ticks);
}
