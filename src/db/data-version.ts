import { noArrivalSince } from '../call/arrivals.ts';
import type { DatabaseTarget } from './url.ts';

/**
 * A number that changes whenever anything is committed to the database by any connection: this
 * process's Prisma client, another cluster worker, a `cfg` command, a sqlite3 shell. Read caches
 * keep the value they loaded under and trust an entry only while it is unchanged.
 */
export interface DataVersion {
  /** The current value (a statement on a connection of its own, ~1-20 us: no table is read). */
  read(): number;
  /**
   * For a call being served: the value read for an earlier call when no request has reached this
   * process since (src/call/arrivals.ts), else a new read. Every commit made before the call
   * arrived is in it, and calls that arrive together (one read of a connection's bytes) share one
   * statement: under load most cost none.
   */
  readForCall(): number;
  close(): void;
}

/**
 * SQLite: `PRAGMA data_version` on a connection of its own, which sees every commit made by any
 * other connection to the file (https://sqlite.org/pragma.html#pragma_data_version). It writes
 * nothing, so it never changes the value itself.
 *
 * PostgreSQL has no such counter: undefined, and callers keep no cache there.
 */
export async function openDataVersion(target: DatabaseTarget): Promise<DataVersion | undefined> {
  if (target.provider !== 'sqlite') return undefined;
  const { default: Database } = await import('better-sqlite3');
  return sqliteDataVersion(Database, target.file);
}

/** The same, synchronously, given better-sqlite3's Database class (already imported). */
export function sqliteDataVersion(Database: typeof import('better-sqlite3'), file: string): DataVersion {
  const db = new Database(file, { fileMustExist: true });
  const stmt = db.prepare('PRAGMA data_version').pluck();
  const read = () => stmt.get() as number;
  let shared = 0;
  let sharedAt = -1;
  return {
    read,
    readForCall() {
      if (sharedAt >= 0 && noArrivalSince(sharedAt)) return shared;
      // The time first: a request noted after it makes the next call read again. Both are kept only
      // once the read succeeded: a read that throws (SQLITE_BUSY) must not pass for a fresh one.
      const at = performance.now();
      const value = read();
      sharedAt = at;
      shared = value;
      return value;
    },
    close: () => db.close(),
  };
}
