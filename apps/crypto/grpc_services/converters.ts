import type { Coin, PriceUpdate, TransferRecord, Wallet } from '../../../generated/crypto_service.ts';
import { CENT_SCALE, formatDecimal, UNIT_SCALE, valueUnits } from './money.ts';

/** The columns of a crypto_coin row the converters read (a Prisma Coin). */
export interface CoinRow {
  id: number;
  symbol: string;
  name: string;
  priceUnits: bigint;
  marketCapCents: bigint;
  volume24hCents: bigint;
  change24hBps: number;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A wallet row loaded with its coin and its owner's username in the same query. */
export interface WalletRow {
  id: number;
  balanceUnits: bigint;
  createdAt: Date;
  updatedAt: Date;
  coin: CoinRow;
  user: { username: string };
}

/** A ledger row loaded with its coin and both wallets' owners. */
export interface TransferRow {
  id: number;
  kind: string;
  idempotencyKey: string;
  amountUnits: bigint;
  createdAt: Date;
  coin: { symbol: string };
  fromWallet: { user: { username: string } } | null;
  toWallet: { user: { username: string } } | null;
}

/** The Prisma `include` that loads what WalletRow needs in one query (no N+1). */
export const WALLET_INCLUDE = { coin: true, user: { select: { username: true } } } as const;
/** The Prisma `include` that loads what TransferRow needs in one query. */
export const TRANSFER_INCLUDE = {
  coin: { select: { symbol: true } },
  fromWallet: { select: { user: { select: { username: true } } } },
  toWallet: { select: { user: { select: { username: true } } } },
} as const;

export function formatBps(bps: number): string {
  return formatDecimal(BigInt(bps), 2);
}

export function coinToProto(row: CoinRow): Coin {
  return {
    id: row.id,
    symbol: row.symbol,
    name: row.name,
    priceUsd: formatDecimal(row.priceUnits, UNIT_SCALE),
    marketCapUsd: formatDecimal(row.marketCapCents, CENT_SCALE),
    volume24hUsd: formatDecimal(row.volume24hCents, CENT_SCALE),
    change24hPercent: formatBps(row.change24hBps),
    isActive: row.isActive,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function walletToProto(row: WalletRow): Wallet {
  return {
    id: row.id,
    username: row.user.username,
    coin: coinToProto(row.coin),
    balance: formatDecimal(row.balanceUnits, UNIT_SCALE),
    valueUsd: formatDecimal(valueUnits(row.balanceUnits, row.coin.priceUnits), UNIT_SCALE),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function transferToProto(row: TransferRow): TransferRecord {
  return {
    id: BigInt(row.id),
    kind: row.kind,
    symbol: row.coin.symbol,
    fromUsername: row.fromWallet?.user.username ?? '',
    toUsername: row.toWallet?.user.username ?? '',
    amount: formatDecimal(row.amountUnits, UNIT_SCALE),
    idempotencyKey: row.idempotencyKey,
    createdAt: row.createdAt,
  };
}

export function priceUpdateOf(row: CoinRow): PriceUpdate {
  return {
    symbol: row.symbol,
    priceUsd: formatDecimal(row.priceUnits, UNIT_SCALE),
    change24hPercent: formatBps(row.change24hBps),
    updatedAt: row.updatedAt,
  };
}
