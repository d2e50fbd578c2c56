import type { DataVersion } from 'cfg-grpc/db';
import type { Coin } from '../../../generated/crypto_service.ts';

/** Symbols remembered at most (misses included, so a scan of made-up symbols stays bounded). */
const MAX_ENTRIES = 1024;

interface Entry {
  /** The database's data version read before the row was loaded. */
  version: number;
  coin: Coin | null;
}

/**
 * GetCoin's read cache: symbol -> the coin as sent (or null: no such row). An entry is used only
 * while the database's data version is the one read *before* it was loaded, so any commit, from
 * this process, another cluster worker or a CLI on the same file, makes every entry stale; a
 * commit racing the load leaves the entry already stale. Without a DataVersion (PostgreSQL) or
 * with CRYPTO_COIN_CACHE=off, every call loads.
 */
export class CoinCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly version: DataVersion | undefined) {}

  async get(symbol: string, load: () => Promise<Coin | null>): Promise<Coin | null> {
    if (this.version === undefined) return load();
    const version = this.version.read();
    const hit = this.entries.get(symbol);
    if (hit !== undefined && hit.version === version) return hit.coin;
    const coin = await load();
    if (hit === undefined && this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(symbol, { version, coin });
    return coin;
  }
}

/** Whether the app caches coins: on unless CRYPTO_COIN_CACHE=off (the bench measures both). */
export function coinCacheEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CRYPTO_COIN_CACHE !== 'off';
}
