import type { Pool, PoolClient } from 'pg';
import { GrpcError, Status } from 'cfg-grpc';
import {
  coinRowOf,
  ledgerRowOf,
  type Cancellation,
  type CoinColumns,
  type LedgerEngine,
  type LedgerItem,
  type LedgerRow,
  type OutcomeColumns,
  type PricesResult,
  type PriceTick,
} from './ledger-item.ts';
import { PendingQueue, type Pending } from './ledger-queue.ts';

/** A named statement: pg prepares it once per connection. */
const QUERY = { name: 'crypto_apply_operations', text: 'SELECT * FROM crypto_apply_operations($1, $2, $3, $4, $5, $6, $7, $8)' };
/** A price batch: its coins locked in id order (two batches never deadlock), then written in one statement. */
const LOCK_COINS = {
  name: 'crypto_lock_coins',
  text: 'SELECT symbol FROM crypto_coin WHERE symbol = ANY($1::TEXT[]) AND "isActive" ORDER BY id FOR NO KEY UPDATE',
};
const SET_PRICES = {
  name: 'crypto_set_prices',
  text: `UPDATE crypto_coin c SET "priceUnits" = v.price, "change24hBps" = COALESCE(v.bps, c."change24hBps"), "updatedAt" = (now() AT TIME ZONE 'UTC')::TIMESTAMP(3)
    FROM unnest($1::TEXT[], $2::BIGINT[], $3::INTEGER[]) AS v(symbol, price, bps)
    WHERE c.symbol = v.symbol AND c."isActive"
    RETURNING c.id, c.symbol, c.name, c."priceUnits" AS price, c."marketCapCents" AS cap, c."volume24hCents" AS volume, c."change24hBps" AS change,
      c."isActive" AS active, c."createdAt" AT TIME ZONE 'UTC' AS created, c."updatedAt" AT TIME ZONE 'UTC' AS updated`,
};
/** Most items in one statement. */
const MAX_BATCH = 256;
/**
 * Batches in flight at once per process. The second waits in PostgreSQL for the first's wallet
 * locks (never a deadlock: one lock order) and runs the moment it commits, so the database is not
 * idle while a reply travels back to Node and the next batch travels out.
 */
const IN_FLIGHT = 2;
/** Items waiting for a batch; past that a call is refused at once (UNAVAILABLE) instead of queueing. */
const MAX_QUEUE = 4096;
/** Conflicts a batch is retried on (none is expected: locks are taken in one order; see the migration). */
const CONFLICTS = new Set(['40001', '40P01', '55P03']);
const CONFLICT_ATTEMPTS = 3;
/** Replies settled per turn of the event loop once a batch is back. */
const REPLIES_PER_TURN = 8;
/** How long items whose statement lost its connection are sent again to learn their outcome. */
const RESOLVE_LIMIT_MS = 30_000;

const ignore = () => {};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sqlState = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
};
/** The connection broke (no SQLSTATE, or connection exception / operator intervention): the statement may have committed. */
const connectionLost = (code: string | undefined) => code === undefined || code.startsWith('08') || code.startsWith('57P');
const byUserAndKey = (a: Pending, b: Pending) =>
  a.item.userId - b.item.userId ||
  (a.item.idempotencyKey < b.item.idempotencyKey ? -1 : a.item.idempotencyKey > b.item.idempotencyKey ? 1 : 0);

/**
 * Settles a batch's items from its rows, a few per turn of the event loop: a large batch's replies
 * then never hold other calls (GetCoin) back for the whole burst.
 */
async function settle(batch: Pending[], rows: Array<OutcomeColumns & { item: number }>): Promise<void> {
  for (let i = 0; i < rows.length; i += REPLIES_PER_TURN) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const row of rows.slice(i, i + REPLIES_PER_TURN)) {
      const p = batch[row.item - 1]!;
      try {
        p.resolve(ledgerRowOf(row));
      } catch (err) {
        p.reject(err);
      }
    }
  }
}

function valuesOf(batch: Pending[]): unknown[] {
  return [
    batch.map((p) => p.item.kind),
    batch.map((p) => p.item.userId),
    batch.map((p) => p.item.idempotencyKey),
    batch.map((p) => p.item.symbol),
    batch.map((p) => p.item.amount.toString()),
    batch.map((p) => p.item.toUsername),
    batch.map((p) => p.item.quoteSymbol),
    batch.map((p) => (p.item.limitPrice === null ? null : p.item.limitPrice.toString())),
  ];
}

/**
 * PostgreSQL's money path: operations arriving while a batch is in flight wait for the next one,
 * and each batch is one call of the crypto_apply_operations function (a migration creates it):
 * one round trip and one commit for all of them, so a wallet row stays locked for one statement
 * whatever the number of callers. At most IN_FLIGHT batches are out per process, each on one pooled
 * connection: the rest of the pool stays free for other calls, and the queue of operations waiting
 * for a batch is bounded (MAX_QUEUE). Items succeed or fail on their own. A
 * conflict (none is expected: locks are taken in one order) is retried a few times, then answered
 * ABORTED; when the connection breaks after a batch was sent, its items are sent again until
 * their outcome is known (their keys make that safe: an applied one comes back as a replay).
 */
export class PgLedger implements LedgerEngine {
  private readonly queue = new PendingQueue(MAX_QUEUE);
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly pool: Pool) {}

  apply(item: LedgerItem, signal?: Cancellation): Promise<LedgerRow> {
    return this.queue.add(item, signal, () => {
      if (this.scheduled || this.inFlight >= IN_FLIGHT) return;
      // Calls that arrive in the same turn of the event loop join the same batch.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      });
    });
  }

  /**
   * A price batch in one transaction on a pooled connection of its own: the coins are locked in id
   * order (FOR NO KEY UPDATE: the ledger's foreign-key checks on coins never wait for it), a
   * missing one rolls everything back, the rest are written in one statement.
   */
  async setPrices(ticks: PriceTick[]): Promise<PricesResult> {
    const client = await this.pool.connect();
    client.on('error', ignore);
    let broken: Error | undefined;
    try {
      await client.query("BEGIN; SET LOCAL lock_timeout = '3s'");
      const symbols = ticks.map((t) => t.symbol);
      const found = new Set((await client.query<{ symbol: string }>({ ...LOCK_COINS, values: [symbols] })).rows.map((r) => r.symbol));
      const missing = symbols.find((s) => !found.has(s));
      if (missing !== undefined) {
        await client.query('ROLLBACK');
        return { missing };
      }
      const values = [symbols, ticks.map((t) => t.price.toString()), ticks.map((t) => t.changeBps)];
      const { rows } = await client.query<CoinColumns>({ ...SET_PRICES, values });
      await client.query('COMMIT');
      return { coins: rows.map(coinRowOf) };
    } catch (err) {
      if (connectionLost(sqlState(err))) broken = err as Error;
      else await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      if (!broken) client.off('error', ignore);
      client.release(broken);
    }
  }

  /** Starts batches while fewer than IN_FLIGHT are out; each finished one starts the next. */
  private pump(): void {
    while (this.inFlight < IN_FLIGHT && this.queue.length > 0) {
      this.inFlight++;
      void this.send(this.queue.take(MAX_BATCH)).then((unknown) => {
        this.inFlight--;
        if (unknown.length > 0) void this.resolveLater(unknown);
        this.pump();
      });
    }
  }

  /**
   * Sends one batch and settles its items. Resolves to those still unsettled: the connection
   * broke after they were sent (the outcome is unknown), or, with `keepUnsent`, no connection
   * could be had. Never throws.
   */
  private async send(batch: Pending[], keepUnsent = false): Promise<Pending[]> {
    const live = [...batch].sort(byUserAndKey);
    if (live.length === 0) return [];
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      if (keepUnsent) return live;
      for (const p of live) p.reject(err); // nothing was sent
      return [];
    }
    // A connection that breaks also emits 'error' on its client, and a checked-out client has no
    // listener of the pool's: without this one the process would crash (the query reports it).
    client.on('error', ignore);
    const release = (err?: Error) => {
      if (!err) client.off('error', ignore); // a broken client is thrown away with its listener
      client.release(err);
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const { rows } = await client.query<OutcomeColumns & { item: number }>({ ...QUERY, values: valuesOf(live) });
        release();
        void settle(live, rows);
        return [];
      } catch (err) {
        const code = sqlState(err);
        if (code && CONFLICTS.has(code) && attempt < CONFLICT_ATTEMPTS) {
          await sleep(Math.random() * 5 * attempt);
          continue;
        }
        if (connectionLost(code)) {
          release(err as Error);
          return live;
        }
        release();
        // The statement failed whole, so nothing was applied. A conflict is answered as it is; any
        // other failure is one item's: each is sent alone, so the others still succeed.
        if (live.length === 1 || CONFLICTS.has(code!)) {
          for (const p of live) p.reject(err);
          return [];
        }
        const unknown: Pending[] = [];
        for (const p of live) unknown.push(...(await this.send([p], keepUnsent)));
        return unknown;
      }
    }
  }

  /** Items whose statement may or may not have committed: sent again until their outcome comes back. */
  private async resolveLater(items: Pending[]): Promise<void> {
    const started = performance.now();
    for (let delay = 100; items.length > 0; delay = Math.min(delay * 2, 2_000)) {
      await sleep(delay);
      const expired = performance.now() - started > RESOLVE_LIMIT_MS;
      for (const p of items) if (expired || p.signal?.aborted) p.reject(unknownOutcome());
      items = await this.send(
        items.filter((p) => !expired && !p.signal?.aborted),
        true,
      );
    }
  }
}

function unknownOutcome(): GrpcError {
  return new GrpcError(
    Status.UNAVAILABLE,
    'Database unavailable: the connection broke after this operation was sent and its outcome could not be learned; retry with the same idempotency_key (it is never applied twice)',
  );
}
