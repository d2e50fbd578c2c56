import type { DataVersion } from 'cfg-grpc/db';
import type { Coin } from '../../../generated/crypto_service.ts';

/** Symbols remembered at most (misses included, so a scan of made-up symbols stays bounded). */
const MAX_ENTRIES = 1024;

interface Entry {
  /** SQLite: the database's data version read before the row was loaded. */
  version: number;
  coin: Coin | null;
}

/**
 * What tells the cache about writes: invalidations as they arrive, and whether it may be trusted
 * now (the coin feed of the event channel, price-bus.ts).
 */
export interface InvalidationSource {
  coherent(): boolean;
  onInvalidate(fn: (symbol: string | null) => void): () => void;
}

/**
 * GetCoin's read cache: symbol -> the coin as sent (or null: no such row), per process. Two ways
 * of knowing an entry is still right, one per database:
 *
 * - SQLite (a DataVersion): an entry is used only while the database's data version is the one
 *   read *before* it was loaded, so any commit, from this process, another cluster worker or a CLI
 *   on the same file, makes every entry stale; a commit racing the load leaves it stale already.
 *   The version is DataVersion.readForCall: calls that arrived together share one read, and a
 *   call that arrived after a commit always reads again.
 * - PostgreSQL (the event channel): every write of a coin sends an event in its own transaction
 *   (a trigger), which every process receives at the commit; the entry of that symbol goes. This
 *   process's own writes drop theirs at once (before the reply). An entry is used only while the
 *   channel is coherent (up, and a heartbeat sent at most events.maxStalenessMs ago has come back:
 *   every event committed before it was received), so the worst case is maxStalenessMs; while the
 *   channel is down or stalled every call loads, and after it was lost everything is dropped. A
 *   load that an invalidation overtook is not kept.
 *
 * Without either (CRYPTO_COIN_CACHE=off, or a channel that is not transactional), every call loads.
 */
export class CoinCache {
  private readonly entries = new Map<string, Entry>();
  /**
   * Loads in flight, one per symbol, with the version (SQLite) or generation (PostgreSQL) they
   * started under. A call that finds one started under its own version shares it instead of
   * querying again: every commit makes all SQLite entries stale at once, and without this the
   * calls in flight at that moment (64 under the bench's load) would each run the query.
   */
  private readonly loading = new Map<string, { version: number; coin: Promise<Coin | null> }>();
  /** Bumped by every invalidation: a load that started before one is not kept. */
  private generation = 0;

  constructor(private readonly source: DataVersion | InvalidationSource | undefined) {
    if (source && 'onInvalidate' in source) {
      source.onInvalidate((symbol) => {
        this.generation++;
        if (symbol === null) this.entries.clear();
        else this.entries.delete(symbol);
      });
    }
  }

  async get(symbol: string, load: () => Promise<Coin | null>): Promise<Coin | null> {
    const source = this.source;
    if (source === undefined) return load();
    if ('read' in source) {
      // A load shared under the same version is exact as an entry is: no commit came between its
      // version read and this call's, and the load's query ran after the first of them.
      const version = source.readForCall();
      const hit = this.entries.get(symbol);
      if (hit !== undefined && hit.version === version) return hit.coin;
      const coin = await this.loadOnce(symbol, version, load);
      this.remember(symbol, { version, coin }, hit === undefined);
      return coin;
    }
    if (!source.coherent()) return load();
    const hit = this.entries.get(symbol);
    if (hit !== undefined) return hit.coin;
    const generation = this.generation;
    const coin = await this.loadOnce(symbol, generation, load);
    if (generation === this.generation && source.coherent()) this.remember(symbol, { version: generation, coin }, true);
    return coin;
  }

  /** The load of `symbol` in flight under `version`, or a new one (a failed load fails every call sharing it). */
  private loadOnce(symbol: string, version: number, load: () => Promise<Coin | null>): Promise<Coin | null> {
    const inFlight = this.loading.get(symbol);
    if (inFlight !== undefined && inFlight.version === version) return inFlight.coin;
    const coin = load();
    const flight = { version, coin };
    this.loading.set(symbol, flight);
    const done = () => {
      if (this.loading.get(symbol) === flight) this.loading.delete(symbol);
    };
    coin.then(done, done);
    return coin;
  }

  private remember(symbol: string, entry: Entry, added: boolean): void {
    if (added && this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(symbol, entry);
  }
}

/** Whether the app caches coins: on unless CRYPTO_COIN_CACHE=off (the bench measures both). */
export function coinCacheEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CRYPTO_COIN_CACHE !== 'off';
}
