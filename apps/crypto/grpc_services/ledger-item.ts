import type { CoinRow, TransferRow, WalletRow } from './converters.ts';

/** One money operation as a ledger engine applies it (validated by the service first). */
export interface LedgerItem {
  /** buy and sell: a trade between two wallets of the caller (the coin's and the quote coin's). */
  kind: 'transfer' | 'deposit' | 'withdraw' | 'buy' | 'sell';
  userId: number;
  idempotencyKey: string;
  symbol: string;
  /** Units, 1 to MAX_UNITS (a trade's quantity of the coin). */
  amount: bigint;
  /** Transfers only. */
  toUsername: string | null;
  /** Trades only: the coin the trade is paid in (USDT). */
  quoteSymbol: string | null;
  /** Trades only, optional: the worst price accepted (units of the quote coin per coin). */
  limitPrice: bigint | null;
}

/**
 * What became of an item. `replay`: the key was used before, and `transfer` is the stored row
 * (the caller compares it with the request). Every other outcome but `applied` changed nothing.
 * Trades only: `no_quote` (the quote coin is missing), `no_price` (the coin's price is 0),
 * `price_limit` (the price is past the order's limit), `too_small` (a sale's value rounds to 0).
 */
export type Outcome =
  | 'applied'
  | 'replay'
  | 'no_caller'
  | 'no_coin'
  | 'no_recipient'
  | 'self'
  | 'no_wallet'
  | 'insufficient'
  | 'overflow'
  | 'no_quote'
  | 'no_price'
  | 'price_limit'
  | 'too_small';

/** A trade's quote leg, as written (applied) or stored (replay). */
export interface TradeLeg {
  quoteSymbol: string;
  /** Units of the quote coin paid (buy) or received (sell). */
  quoteAmount: bigint;
  /** Units of the quote coin per coin. */
  price: bigint;
  /** The caller's quote wallet after the trade (replay: as it is now). */
  quoteBalance: bigint;
}

export interface LedgerRow {
  outcome: Outcome;
  /** The ledger row written (applied) or found (replay); null otherwise. */
  transfer: TransferRow | null;
  /** The caller's wallet in that coin after the operation (the credited one for a deposit or a buy). */
  wallet: WalletRow | null;
  /** A trade's quote leg (applied or replayed buy and sell rows); null otherwise. */
  trade: TradeLeg | null;
}

/** One coin's new price in a batch of ImportPrices (the last tick of that coin in the batch). */
export interface PriceTick {
  symbol: string;
  /** Units (8 decimal places). */
  price: bigint;
  /** Basis points; null leaves the 24 h change as it is. */
  changeBps: number | null;
}

/** A price batch's outcome: every coin as written, or the first symbol that named no active coin (then nothing was written). */
export type PricesResult = { coins: CoinRow[] } | { missing: string };

/** Whether the caller has gone (an AbortSignal will do): an item still waiting is then dropped unapplied. */
export interface Cancellation {
  readonly aborted: boolean;
}

/** Applies items exactly once per (user, key); each engine is one database's way of doing it. */
export interface LedgerEngine {
  /**
   * Resolves with the item's outcome once it is committed (or known to be a replay). Rejects
   * only when nothing was applied (a GrpcError or a database error the boundary classifies),
   * except when the connection was lost after the item was sent and the outcome could not be
   * learned again (UNAVAILABLE saying so; the key makes the retry safe).
   */
  apply(item: LedgerItem, signal?: Cancellation): Promise<LedgerRow>;
  /**
   * Writes a batch of prices in one transaction (each symbol at most once), in line with the
   * money operations (on SQLite, by the same writer). All or nothing: `missing` names a symbol
   * that is not an active coin, and then nothing was written. Trades read the price they fill at
   * in their own transaction, so they see a batch whole or not at all.
   */
  setPrices(ticks: PriceTick[]): Promise<PricesResult>;
}

/** The columns a ledger query returns for one item, in both engines (see crypto_apply_operations). */
export interface OutcomeColumns {
  outcome: string;
  transfer_id: number | bigint | null;
  transfer_kind: string | null;
  transfer_key: string | null;
  transfer_amount: bigint | string | null;
  transfer_created: Date | string | null;
  from_username: string | null;
  to_username: string | null;
  wallet_id: number | bigint | null;
  wallet_balance: bigint | string | null;
  wallet_created: Date | string | null;
  wallet_updated: Date | string | null;
  wallet_username: string | null;
  coin_id: number | bigint | null;
  coin_symbol: string | null;
  coin_name: string | null;
  coin_price: bigint | string | null;
  coin_cap: bigint | string | null;
  coin_volume: bigint | string | null;
  coin_change: number | bigint | null;
  coin_active: boolean | number | bigint | null;
  coin_created: Date | string | null;
  coin_updated: Date | string | null;
  /** Trades only (null otherwise). */
  quote_symbol: string | null;
  quote_amount: bigint | string | null;
  trade_price: bigint | string | null;
  quote_balance: bigint | string | null;
}

/** A coin's columns as the price batch returns them (both engines). */
export interface CoinColumns {
  id: number | bigint;
  symbol: string;
  name: string;
  price: bigint | string;
  cap: bigint | string;
  volume: bigint | string;
  change: number | bigint;
  active: boolean | number | bigint;
  created: Date | string;
  updated: Date | string;
}

const OUTCOMES = new Set<string>([
  'applied',
  'replay',
  'no_caller',
  'no_coin',
  'no_recipient',
  'self',
  'no_wallet',
  'insufficient',
  'overflow',
  'no_quote',
  'no_price',
  'price_limit',
  'too_small',
]);
/** SQLite holds dates as text: Prisma writes ISO 8601 with an offset; CURRENT_TIMESTAMP (UTC) has none. */
const date = (v: Date | string | null): Date =>
  v instanceof Date ? v : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v!) ? v! : `${v!.replace(' ', 'T')}Z`);
const big = (v: bigint | string | null): bigint => BigInt(v!);

/** A coin row from a price batch's columns. */
export function coinRowOf(c: CoinColumns): CoinRow {
  return {
    id: Number(c.id),
    symbol: c.symbol,
    name: c.name,
    priceUnits: big(c.price),
    marketCapCents: big(c.cap),
    volume24hCents: big(c.volume),
    change24hBps: Number(c.change),
    isActive: Boolean(c.active),
    createdAt: date(c.created),
    updatedAt: date(c.updated),
  };
}

/** The row shapes the converters take, from one result row of either engine. */
export function ledgerRowOf(r: OutcomeColumns): LedgerRow {
  if (!OUTCOMES.has(r.outcome)) throw new Error(`ledger: unknown outcome ${r.outcome}`);
  const outcome = r.outcome as Outcome;
  if (r.transfer_id === null || r.coin_id === null) {
    if (outcome === 'applied' || outcome === 'replay') throw new Error(`ledger: outcome ${outcome} without its ledger row`);
    return { outcome, transfer: null, wallet: null, trade: null };
  }
  const coin: CoinRow = {
    id: Number(r.coin_id),
    symbol: r.coin_symbol!,
    name: r.coin_name!,
    priceUnits: big(r.coin_price),
    marketCapCents: big(r.coin_cap),
    volume24hCents: big(r.coin_volume),
    change24hBps: Number(r.coin_change),
    isActive: Boolean(r.coin_active),
    createdAt: date(r.coin_created),
    updatedAt: date(r.coin_updated),
  };
  const owner = (username: string | null) => (username === null ? null : { user: { username } });
  const transfer: TransferRow = {
    id: Number(r.transfer_id),
    kind: r.transfer_kind!,
    idempotencyKey: r.transfer_key!,
    amountUnits: big(r.transfer_amount),
    createdAt: date(r.transfer_created),
    coin: { symbol: coin.symbol },
    fromWallet: owner(r.from_username),
    toWallet: owner(r.to_username),
  };
  const wallet: WalletRow | null =
    r.wallet_id === null
      ? null
      : {
          id: Number(r.wallet_id),
          balanceUnits: big(r.wallet_balance),
          createdAt: date(r.wallet_created),
          updatedAt: date(r.wallet_updated),
          coin,
          user: { username: r.wallet_username! },
        };
  const trade: TradeLeg | null =
    r.quote_symbol === null || r.quote_amount === null || r.trade_price === null
      ? null
      : {
          quoteSymbol: r.quote_symbol,
          quoteAmount: big(r.quote_amount),
          price: big(r.trade_price),
          quoteBalance: r.quote_balance === null ? 0n : big(r.quote_balance),
        };
  if ((transfer.kind === 'buy' || transfer.kind === 'sell') && !trade)
    throw new Error(`ledger: trade ${transfer.id} without its quote leg`);
  return { outcome, transfer, wallet, trade };
}
