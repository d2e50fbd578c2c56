import type { CoinRow, TransferRow, WalletRow } from './converters.ts';

/** One money operation as a ledger engine applies it (validated by the service first). */
export interface LedgerItem {
  kind: 'transfer' | 'deposit' | 'withdraw';
  userId: number;
  idempotencyKey: string;
  symbol: string;
  /** Units, 1 to MAX_UNITS. */
  amount: bigint;
  /** Transfers only. */
  toUsername: string | null;
}

/**
 * What became of an item. `replay`: the key was used before, and `transfer` is the stored row
 * (the caller compares it with the request). Every other outcome but `applied` changed nothing.
 */
export type Outcome = 'applied' | 'replay' | 'no_caller' | 'no_coin' | 'no_recipient' | 'self' | 'no_wallet' | 'insufficient' | 'overflow';

export interface LedgerRow {
  outcome: Outcome;
  /** The ledger row written (applied) or found (replay); null otherwise. */
  transfer: TransferRow | null;
  /** The caller's wallet in that coin after the operation (the credited one for a deposit). */
  wallet: WalletRow | null;
}

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
}

const OUTCOMES = new Set<string>(['applied', 'replay', 'no_caller', 'no_coin', 'no_recipient', 'self', 'no_wallet', 'insufficient', 'overflow']);
/** SQLite holds dates as text: Prisma writes ISO 8601 with an offset; CURRENT_TIMESTAMP (UTC) has none. */
const date = (v: Date | string | null): Date => (v instanceof Date ? v : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v!) ? v! : `${v!.replace(' ', 'T')}Z`));
const big = (v: bigint | string | null): bigint => BigInt(v!);

/** The row shapes the converters take, from one result row of either engine. */
export function ledgerRowOf(r: OutcomeColumns): LedgerRow {
  if (!OUTCOMES.has(r.outcome)) throw new Error(`ledger: unknown outcome ${r.outcome}`);
  const outcome = r.outcome as Outcome;
  if (r.transfer_id === null || r.coin_id === null) {
    if (outcome === 'applied' || outcome === 'replay') throw new Error(`ledger: outcome ${outcome} without its ledger row`);
    return { outcome, transfer: null, wallet: null };
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
      : { id: Number(r.wallet_id), balanceUnits: big(r.wallet_balance), createdAt: date(r.wallet_created), updatedAt: date(r.wallet_updated), coin, user: { username: r.wallet_username! } };
  return { outcome, transfer, wallet };
}
