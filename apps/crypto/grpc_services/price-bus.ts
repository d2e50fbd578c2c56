import { defineTopic, getLogger, type EventChannel } from 'cfg-grpc';
import type { Db } from 'cfg-grpc/db';
import type { PriceUpdate } from '../../../generated/crypto_service.ts';
import type { CoinRow } from './converters.ts';
import { formatBps } from './converters.ts';
import { formatDecimal, UNIT_SCALE } from './money.ts';

const log = getLogger('apps.crypto.grpc_services');

/**
 * A coin row changed (crypto.coin): what the database's triggers send, in the transaction of the
 * write, for every insert, update and delete of crypto_coin (prisma/migrations/.../events), and
 * what this app publishes itself on a channel that is not transactional (Redis, local). `version`
 * is the row's, bumped by every change: the order of the commits of that coin.
 */
export interface CoinChange {
  symbol: string;
  deleted?: boolean;
  version?: number;
  priceUnits?: string;
  change24hBps?: number;
  isActive?: boolean;
  /** As the database wrote it (ISO 8601, UTC with or without its offset). */
  updatedAt?: string;
}
export const coinChanged = defineTopic<CoinChange>('crypto.coin');

/** A price as WatchPrices sends it, with its version: this process's ordered feed (local only, never sent). */
export interface VersionedPrice {
  symbol: string;
  version: number;
  priceUsd: string;
  change24hPercent: string;
  updatedAt: string;
}
export const priceChanged = defineTopic<VersionedPrice>('crypto.price');

/** How long a change waits for the one before it (another process's, still in flight) before the coin is read again. */
const GAP_WAIT_MS = 1_000;

const utc = (v: string) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`);

export function toPriceUpdate(p: VersionedPrice): PriceUpdate {
  return { symbol: p.symbol, priceUsd: p.priceUsd, change24hPercent: p.change24hPercent, updatedAt: new Date(p.updatedAt) };
}

function versionedOf(row: Pick<CoinRow, 'symbol' | 'priceUnits' | 'change24hBps' | 'updatedAt'> & { version: number }): VersionedPrice {
  return {
    symbol: row.symbol,
    version: row.version,
    priceUsd: formatDecimal(row.priceUnits, UNIT_SCALE),
    change24hPercent: formatBps(row.change24hBps),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The change a committed row is (what the trigger sends for it). */
export function changeOf(row: CoinRow & { version: number }): CoinChange {
  return {
    symbol: row.symbol,
    version: row.version,
    priceUnits: row.priceUnits.toString(),
    change24hBps: row.change24hBps,
    isActive: row.isActive,
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * The coin changes of a deployment, as this process sees them: every change made through any
 * process (and by any writer of the database, through its triggers) arrives on the event channel;
 * this puts them in each coin's commit order (by version), once each, and hands them to
 * WatchPrices streams as `crypto.price` events, and to caches as invalidations (at once, in
 * whatever order they come). A change that arrives before the one it follows (this process's own
 * write, delivered at once, can overtake another's still on the wire) waits for it; one still
 * missing after GAP_WAIT_MS, and every coin after the channel was lost and is back, is read again
 * from the database and passed on as it now is, so that no stream silently misses a change.
 */
export class CoinFeed {
  /** symbol -> the last version passed on (every coin: seeded from the database). */
  private readonly last = new Map<string, number>();
  /** symbol -> changes waiting for an earlier version. */
  private readonly waiting = new Map<string, Map<number, CoinChange>>();
  private readonly gapTimers = new Map<string, NodeJS.Timeout>();
  private readonly invalidators = new Set<(symbol: string | null) => void>();
  /** Changes received while the versions are read at start. */
  private early: CoinChange[] | undefined = [];
  readonly ready: Promise<void>;

  constructor(
    private readonly events: EventChannel,
    private readonly db: Db,
  ) {
    events.on(coinChanged, (change) => this.receive(change));
    // Made before the channel was first up (a call came in as the server started): what committed
    // before it listened is read again once it does.
    let beforeUp = events.state !== 'up';
    events.onState((s) => {
      if (s.state !== 'up') return;
      if (s.resync) for (const f of this.invalidators) f(null);
      if (s.resync || beforeUp) void this.resync();
      beforeUp = false;
    });
    this.ready = this.seed();
  }

  /** Calls `fn` with each changed symbol as soon as its change arrives (null: anything may have changed). */
  onInvalidate(fn: (symbol: string | null) => void): () => void {
    this.invalidators.add(fn);
    return () => this.invalidators.delete(fn);
  }

  /** Whether caches fed by this may be used now (the channel is transactional, up, and heard from recently). */
  coherent(): boolean {
    return this.events.coherent();
  }

  /**
   * A write of this process committed `row`: its streams and caches see it at once. On a
   * transactional channel the database's trigger has published it already (it reaches the other
   * processes at the commit); on the others it is published now.
   */
  async committed(row: CoinRow & { version: number }): Promise<void> {
    const change = changeOf(row);
    if (this.events.transactional) {
      this.receive(change);
      return;
    }
    try {
      await this.events.publish(coinChanged, change); // delivered here too
    } catch (err) {
      log.warn(
        `coin ${row.symbol}: the change could not be published (${(err as Error).message}); other processes see it at their next resync`,
      );
    }
  }

  private async seed(): Promise<void> {
    try {
      const rows = await this.db.coin.findMany({ select: { symbol: true, version: true } });
      for (const r of rows) this.last.set(r.symbol, r.version);
    } catch (err) {
      log.warn(`coin feed: versions could not be read (${(err as Error).message.split('\n')[0]}); changes are passed on as they come`);
    }
    const early = this.early!;
    this.early = undefined;
    for (const change of early) this.order(change);
  }

  private receive(change: CoinChange): void {
    for (const f of this.invalidators) f(change.symbol);
    if (this.early) this.early.push(change);
    else this.order(change);
  }

  private order(change: CoinChange): void {
    const { symbol } = change;
    if (change.deleted) {
      this.last.delete(symbol);
      this.waiting.delete(symbol);
      return;
    }
    const version = change.version ?? 0;
    const known = this.last.get(symbol);
    if (known !== undefined && version <= known) return; // passed on already
    if (known !== undefined && version > known + 1) {
      let waiting = this.waiting.get(symbol);
      if (!waiting) this.waiting.set(symbol, (waiting = new Map()));
      waiting.set(version, change);
      if (!this.gapTimers.has(symbol)) {
        const timer = setTimeout(() => {
          this.gapTimers.delete(symbol);
          if (this.waiting.has(symbol)) void this.resync([symbol]);
        }, GAP_WAIT_MS);
        timer.unref();
        this.gapTimers.set(symbol, timer);
      }
      return;
    }
    this.pass(change, version);
    this.flush(symbol);
  }

  /** Passes on what waited for the version just passed on; drops what is older. */
  private flush(symbol: string): void {
    const waiting = this.waiting.get(symbol);
    let last = this.last.get(symbol) ?? -1;
    if (waiting) {
      for (const v of [...waiting.keys()]) if (v <= last) waiting.delete(v);
      for (let next = last + 1; waiting.has(next); next++) {
        const c = waiting.get(next)!;
        waiting.delete(next);
        this.pass(c, next);
        last = next;
      }
      if (waiting.size === 0) this.waiting.delete(symbol);
    }
    if (!this.waiting.has(symbol)) {
      clearTimeout(this.gapTimers.get(symbol));
      this.gapTimers.delete(symbol);
    }
  }

  private pass(change: CoinChange, version: number): void {
    this.last.set(change.symbol, version);
    if (!change.isActive || change.priceUnits === undefined) return;
    this.events.emitLocal(priceChanged, {
      symbol: change.symbol,
      version,
      priceUsd: formatDecimal(BigInt(change.priceUnits), UNIT_SCALE),
      change24hPercent: formatBps(change.change24hBps ?? 0),
      updatedAt: utc(change.updatedAt ?? new Date(0).toISOString()).toISOString(),
    });
  }

  /** Reads coins again (all, or `symbols`) and passes on each that is newer than what was passed on. */
  private async resync(symbols?: string[]): Promise<void> {
    try {
      await this.ready;
      const rows = await this.db.coin.findMany({ where: symbols ? { symbol: { in: symbols } } : {}, orderBy: { symbol: 'asc' } });
      for (const row of rows) {
        const known = this.last.get(row.symbol);
        if (known === undefined || row.version > known) {
          this.last.set(row.symbol, row.version);
          if (row.isActive) this.events.emitLocal(priceChanged, versionedOf(row));
        }
        this.flush(row.symbol);
      }
      if (!symbols) log.info(`coin feed: resynchronised ${rows.length} coins (the event channel is up)`);
    } catch (err) {
      log.warn(`coin feed: resync failed (${(err as Error).message.split('\n')[0]}); retrying`);
      setTimeout(() => void this.resync(symbols), GAP_WAIT_MS).unref();
    }
  }
}

const feeds = new WeakMap<EventChannel, CoinFeed>();

/** The feed of a server's event channel (one per channel: every CryptoService of that server shares it). */
export function coinFeed(events: EventChannel, db: Db): CoinFeed {
  let feed = feeds.get(events);
  if (!feed) feeds.set(events, (feed = new CoinFeed(events, db)));
  return feed;
}

export { versionedOf };
