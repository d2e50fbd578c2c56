// Helpers for the ImportPrices and Trade tests: price feeds whose every tick sets a price no other
// tick sets (so the database tells exactly which ticks were applied), and Trade orders.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { TradeSide, type ImportPricesRequest, type TradeOrder } from '../../generated/crypto_service.ts';
import type { CryptoEnv } from './crypto-env.ts';

export const FEED_COINS = ['BTC', 'ETH', 'SOL', 'XRP', 'ADA'] as const;
const UNIT = 100_000_000n;

/** Tick i of feed `run`: coin FEED_COINS[i % 5] at $(run * 100000 + i).5, a price only it sets. */
export function feedTick(run: number, i: number): ImportPricesRequest {
  return { symbol: FEED_COINS[i % FEED_COINS.length]!, priceUsd: `${run * 100_000 + i}.5`, change24hPercent: '' };
}

/** The units of a decimal with at most 8 places ("12.5" -> 1250000000n). */
export function units(decimal: string): bigint {
  const [whole, frac = ''] = decimal.split('.');
  return BigInt(whole!) * UNIT + BigInt(frac.padEnd(8, '0'));
}

/** Each feed coin's price in units, from the database. */
export async function feedPrices(app: CryptoEnv): Promise<Map<string, bigint>> {
  const rows = await app.query(
    `SELECT symbol, "priceUnits" AS p FROM crypto_coin WHERE symbol IN (${FEED_COINS.map((s) => `'${s}'`).join(', ')})`,
  );
  return new Map(rows.map((r) => [String(r.symbol), BigInt(String(r.p))] as const));
}

/** The prices after the first `n` ticks of `ticks`, from `initial`. */
export function afterTicks(initial: Map<string, bigint>, ticks: ImportPricesRequest[], n: number): Map<string, bigint> {
  const state = new Map(initial);
  for (const t of ticks.slice(0, n)) state.set(t.symbol, units(t.priceUsd));
  return state;
}

/**
 * How many of `ticks` the database holds: the n for which the prices are exactly those after the
 * first n ticks (each tick sets a price of its own, so at most one n fits); fails when none does
 * (a partly applied batch, or ticks applied out of order).
 */
export async function appliedPrefix(app: CryptoEnv, initial: Map<string, bigint>, ticks: ImportPricesRequest[]): Promise<number> {
  const now = await feedPrices(app);
  const fits: number[] = [];
  for (let n = 0; n <= ticks.length; n++) {
    const expected = afterTicks(initial, ticks, n);
    if ([...expected].every(([s, p]) => now.get(s) === p)) fits.push(n);
  }
  // n and n + 1 differ only when tick n sets a price; a run of equal states is one prefix (take its end).
  assert.ok(fits.length > 0, `the prices are those of no prefix of the feed: ${JSON.stringify([...now].map(([s, p]) => `${s}=${p}`))}`);
  return fits.at(-1)!;
}

/** Polls `check` every 20 ms until it is true (or fails after `ms`). */
export async function until(check: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const buy = (clientOrderId: string, symbol: string, quantity: string, limitPriceUsd = ''): TradeOrder => ({
  clientOrderId,
  side: TradeSide.TRADE_SIDE_BUY,
  symbol,
  quantity,
  limitPriceUsd,
});
export const sell = (clientOrderId: string, symbol: string, quantity: string, limitPriceUsd = ''): TradeOrder => ({
  clientOrderId,
  side: TradeSide.TRADE_SIDE_SELL,
  symbol,
  quantity,
  limitPriceUsd,
});

/** What a fill of `quantity` at `price` costs (buy: rounded up) or brings (sell: rounded down), in USDT units. */
export function quoteUnits(side: TradeSide, quantity: bigint, price: bigint): bigint {
  const exact = quantity * price;
  return side === TradeSide.TRADE_SIDE_BUY ? (exact + UNIT - 1n) / UNIT : exact / UNIT;
}

/** Every wallet balance, by "user symbol". */
export async function allBalances(app: CryptoEnv): Promise<Map<string, bigint>> {
  const rows = await app.query(
    `SELECT u.username AS u, c.symbol AS s, w."balanceUnits" AS b FROM crypto_wallet w JOIN auth_user u ON u.id = w."userId" JOIN crypto_coin c ON c.id = w."coinId"`,
  );
  return new Map(rows.map((r) => [`${r.u} ${r.s}`, BigInt(String(r.b))] as const));
}

/** Each coin's sum over every wallet. */
export async function sumsBySymbol(app: CryptoEnv): Promise<Map<string, bigint>> {
  const rows = await app.query(
    `SELECT c.symbol AS s, SUM(w."balanceUnits") AS b FROM crypto_wallet w JOIN crypto_coin c ON c.id = w."coinId" GROUP BY c.symbol`,
  );
  return new Map(rows.map((r) => [String(r.s), BigInt(String(r.b))] as const));
}

/** The ledger's trade rows whose key starts with `prefix`, by "user key". */
export async function tradeRows(
  app: CryptoEnv,
  prefix: string,
): Promise<Map<string, { kind: string; symbol: string; amount: bigint; quote: bigint; price: bigint; rows: number }>> {
  const rows = await app.query(
    `SELECT u.username AS u, t."idempotencyKey" AS k, t.kind, c.symbol AS s, t."amountUnits" AS a, t."quoteAmountUnits" AS q, t."priceUnits" AS p
     FROM crypto_transfer t JOIN auth_user u ON u.id = t."userId" JOIN crypto_coin c ON c.id = t."coinId" WHERE t."idempotencyKey" LIKE '${prefix}%'`,
  );
  const out = new Map<string, { kind: string; symbol: string; amount: bigint; quote: bigint; price: bigint; rows: number }>();
  for (const r of rows) {
    const key = `${r.u} ${r.k}`;
    const seen = out.get(key);
    if (seen) seen.rows++;
    else
      out.set(key, {
        kind: String(r.kind),
        symbol: String(r.s),
        amount: BigInt(String(r.a)),
        quote: BigInt(String(r.q)),
        price: BigInt(String(r.p)),
        rows: 1,
      });
  }
  return out;
}

/**
 * A call over raw HTTP/2 whose request stream stays open until the server ends it: unlike a grpc-js
 * client, it never cancels at its own deadline (grpc-timeout), so what ends it is the server.
 */
export function rawOpenStream(
  port: number,
  path: string,
  headers: Record<string, string>,
): {
  send(frameBytes: Buffer): void;
  /** The response messages' payloads so far. */
  messages: Buffer[];
  ended: Promise<{ status: string | undefined; message: string; ms: number }>;
  close(): void;
} {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const started = performance.now();
  const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
  const messages: Buffer[] = [];
  let pending = Buffer.alloc(0);
  let head: http2.IncomingHttpHeaders = {};
  let trailers: http2.IncomingHttpHeaders = {};
  req.on('response', (h) => (head = h));
  req.on('trailers', (t) => (trailers = t));
  req.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const length = pending.readUInt32BE(1);
      messages.push(pending.subarray(5, 5 + length));
      pending = pending.subarray(5 + length);
    }
  });
  req.on('error', () => {});
  // The status comes in the trailers (or trailers-only headers), which end the server's side; this
  // side is still open, so the stream itself only closes when the session does.
  const ended = new Promise<{ status: string | undefined; message: string; ms: number }>((resolve) => {
    const done = () => {
      const status = (trailers['grpc-status'] ?? head['grpc-status']) as string | undefined;
      resolve({
        status,
        message: decodeURIComponent(String(trailers['grpc-message'] ?? head['grpc-message'] ?? '')),
        ms: performance.now() - started,
      });
      session.destroy();
    };
    req.on('trailers', (t) => {
      trailers = t;
      done();
    });
    req.on('response', (h) => {
      if (h['grpc-status'] === undefined) return;
      head = h;
      done();
    });
    req.on('close', done);
  });
  return { send: (bytes) => void req.write(bytes), messages, ended, close: () => session.destroy() };
}
