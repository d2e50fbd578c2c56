import type { Db } from 'cfg';
import type { CoinRow } from './converters.ts';

/**
 * GetCoin's query: one coin by symbol, the same row `db.coin.findUnique({ where: { symbol } })`
 * returns (bigint, boolean and Date columns included, on SQLite and PostgreSQL alike), through
 * `$queryRaw`, which skips the query compiler's per-call work: ~60% of findUnique's CPU for a lone
 * call (findUnique only wins when many arrive in one tick and Prisma batches them, which a gRPC
 * server under load rarely sees). The bench's bare server (case b) runs this same function.
 */
export async function findCoinBySymbol(db: Db, symbol: string): Promise<CoinRow | null> {
  const rows = await db.$queryRaw<CoinRow[]>`
    SELECT "id", "symbol", "name", "priceUnits", "marketCapCents", "volume24hCents", "change24hBps", "isActive", "createdAt", "updatedAt"
    FROM "crypto_coin" WHERE "symbol" = ${symbol} LIMIT 1`;
  return rows[0] ?? null;
}
