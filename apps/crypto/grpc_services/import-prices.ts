import { classify, GrpcError, Status, type CallContext } from 'cfg-grpc';
import type { ImportPricesRequest, ImportPricesResponse, PriceUpdate } from '../../../generated/crypto_service.ts';
import type { CoinRow } from './converters.ts';
import { priceUpdateOf } from './converters.ts';
import type { PriceTick } from './ledger-item.ts';
import { UNIT_SCALE } from './money.ts';
import { callEnded, RequestReader, TIMEOUT } from './request-reader.ts';
import { changeBpsOf, nonNegativeOf, symbolOf } from './validation.ts';

export interface ImportSettings {
  /** Most ticks in one batch (one transaction). */
  batchSize: number;
  /** A batch is applied once its first tick has waited this long, full or not (a live feed's ticks are not held back). */
  flushMs: number;
}

/** CRYPTO_IMPORT_BATCH (default 500) and CRYPTO_IMPORT_FLUSH_MS (default 200). */
export function importSettings(env: NodeJS.ProcessEnv = process.env): ImportSettings {
  const int = (name: string, fallback: number, min: number) => {
    const value = Number(env[name] ?? fallback);
    return Number.isInteger(value) && value >= min ? value : fallback;
  };
  return { batchSize: int('CRYPTO_IMPORT_BATCH', 500, 1), flushMs: int('CRYPTO_IMPORT_FLUSH_MS', 200, 0) };
}

/** How one batch is written (ledger.ts setPrices) and how its prices are announced (the price bus). */
export interface ImportDeps {
  write(ticks: PriceTick[]): Promise<{ coins: CoinRow[] } | { missing: string }>;
  publish(update: PriceUpdate): void;
}

interface Tick extends PriceTick {
  index: number;
}

/**
 * ImportPrices: reads ticks one at a time, validating each as it comes, and applies them in
 * batches (settings.batchSize ticks, or those that came within settings.flushMs of the batch's
 * first), each in one transaction; the next tick is read only once the batch before it is
 * written, so a client streaming faster than the database writes is held back by flow control.
 * Within a batch the ticks of one coin coalesce into its last price (and its last 24 h change
 * given); each coin a batch wrote is published once it commits.
 *
 * A malformed tick (INVALID_ARGUMENT) or one naming no active coin (NOT_FOUND) ends the call with
 * "tick N: ...": nothing of its batch is written, and the message says which ticks the batches
 * before it wrote (they stay). A call that is cancelled, passes its deadline or is drained stops
 * reading: its unwritten batch is dropped, the written ones stay.
 */
export async function importPrices(
  requests: AsyncIterable<ImportPricesRequest>,
  ctx: CallContext,
  settings: ImportSettings,
  deps: ImportDeps,
): Promise<ImportPricesResponse> {
  const reader = new RequestReader(requests, ctx);
  const latest = new Map<string, PriceUpdate>();
  let batch: Tick[] = [];
  let batchStarted = 0;
  let applied = 0;
  let batches = 0;

  /** What was and was not applied, for an error that ends the call. */
  const outcome = () =>
    applied === 0
      ? 'Nothing was applied.'
      : `Nothing from tick ${applied} on was applied; ticks 0-${applied - 1} were (${batches} batch${batches === 1 ? '' : 'es'}).`;
  const fail = (code: Status, index: number, message: string): never => {
    throw new GrpcError(code, `tick ${index}: ${message}. ${outcome()}`);
  };

  const flush = async () => {
    if (batch.length === 0) return;
    // A tick of a coin seen earlier in the batch replaces its price; its change only when it gives one.
    const bySymbol = new Map<string, PriceTick & { first: number }>();
    for (const t of batch) {
      const seen = bySymbol.get(t.symbol);
      if (!seen) bySymbol.set(t.symbol, { symbol: t.symbol, price: t.price, changeBps: t.changeBps, first: t.index });
      else {
        seen.price = t.price;
        if (t.changeBps !== null) seen.changeBps = t.changeBps;
      }
    }
    if (ctx.signal.aborted) throw callEnded(ctx); // cancelled, past its deadline or drained: the batch is dropped
    let result: Awaited<ReturnType<ImportDeps['write']>>;
    try {
      result = await deps.write([...bySymbol.values()].map(({ symbol, price, changeBps }) => ({ symbol, price, changeBps })));
    } catch (err) {
      // The database (busy, unreachable, a conflict): its status, and what the batches before it applied.
      const status = classify(err);
      if (status.code === Status.INTERNAL || status.code === Status.UNKNOWN) throw err;
      throw new GrpcError(status.code, `${status.message}. ${outcome()}`, status.metadata, { cause: err });
    }
    if ('missing' in result) fail(Status.NOT_FOUND, bySymbol.get(result.missing)!.first, `Coin ${result.missing} not found`);
    else {
      applied += batch.length;
      batches++;
      batch = [];
      for (const coin of result.coins) {
        const update = priceUpdateOf(coin);
        latest.set(coin.symbol, update);
        deps.publish(update);
      }
    }
  };

  for (let index = 0; ; ) {
    const next = await reader.next(batch.length === 0 ? Infinity : batchStarted + settings.flushMs - performance.now());
    if (next === TIMEOUT) {
      await flush();
      continue;
    }
    if (next.done) break;
    batch.push(tickOf(next.value, index, fail));
    if (batch.length === 1) batchStarted = performance.now();
    index++;
    if (batch.length >= settings.batchSize) await flush();
  }
  await flush();
  return { ticks: applied, batches, prices: [...latest.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)) };
}

/** A validated tick; a malformed one ends the call (INVALID_ARGUMENT "tick N: ..."). */
function tickOf(request: ImportPricesRequest, index: number, fail: (code: Status, index: number, message: string) => never): Tick {
  try {
    return {
      index,
      symbol: symbolOf(request.symbol),
      price: nonNegativeOf(request.priceUsd, 'price_usd', UNIT_SCALE),
      changeBps: changeBpsOf(request.change24hPercent) ?? null,
    };
  } catch (err) {
    if (err instanceof GrpcError) return fail(err.code, index, err.message);
    throw err;
  }
}
