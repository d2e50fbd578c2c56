import { sqlDriver, type Db } from 'cfg-grpc/db';
import type { CoinRow } from './converters.ts';

const COLUMNS = `"id", "symbol", "name", "priceUnits", "marketCapCents", "volume24hCents", "change24hBps", "isActive", "createdAt", "updatedAt", "version"`;

/**
 * pg's text parsers for the columns below, giving the values Prisma's $queryRaw gives on
 * PostgreSQL (@prisma/adapter-pg's parsers, then the client's): int8 as a bigint, a timestamp
 * (no time zone, written by Prisma in UTC) read as UTC; int4, bool and text as pg parses them.
 */
const PARSERS: Record<number, (text: string) => unknown> = {
  16: (v) => v === 't',
  20: (v) => BigInt(v),
  23: (v) => parseInt(v, 10),
  1114: (v) => new Date(`${v.replace(' ', 'T')}+00:00`),
};
const asText = (v: string) => v;

/** A named statement: pg parses and plans it once per pooled connection, then only binds and runs it. */
const PG_QUERY = {
  name: 'crypto_get_coin',
  text: `SELECT ${COLUMNS} FROM "crypto_coin" WHERE "symbol" = $1 LIMIT 1`,
  types: { getTypeParser: (oid: number) => PARSERS[oid] ?? asText },
};

/**
 * GetCoin's query: one coin by symbol, the same row `db.coin.findUnique({ where: { symbol } })`
 * returns (bigint, boolean and Date columns included, on SQLite and PostgreSQL alike; tested).
 *
 * On SQLite through `$queryRaw`, which skips the query compiler's per-call work: ~60% of
 * findUnique's CPU for a lone call (findUnique only wins when many arrive in one tick and Prisma
 * batches them, which a gRPC server under load rarely sees). The bench's bare server (case b)
 * runs this same function.
 *
 * On PostgreSQL straight on the client's pg pool, as a named statement: under load the Prisma
 * client and its adapter cost about half of each call's CPU there (a profile: ~1,100 us per
 * reply through $queryRaw, ~540 us this way), and an unnamed statement is parsed and planned by
 * PostgreSQL on every call. The query is reported to the client's query hook like Prisma's own.
 */
export async function findCoinBySymbol(db: Db, symbol: string): Promise<CoinRow | null> {
  const driver = sqlDriver(db);
  if (driver.provider === 'postgresql') {
    const { onQuery } = driver;
    const started = onQuery ? performance.now() : 0;
    const { rows } = await driver.pool.query<CoinRow>({ ...PG_QUERY, values: [symbol] });
    onQuery?.(PG_QUERY.text, performance.now() - started);
    return rows[0] ?? null;
  }
  const rows = await db.$queryRaw<CoinRow[]>`
    SELECT "id", "symbol", "name", "priceUnits", "marketCapCents", "volume24hCents", "change24hBps", "isActive", "createdAt", "updatedAt", "version"
    FROM "crypto_coin" WHERE "symbol" = ${symbol} LIMIT 1`;
  return rows[0] ?? null;
}
