import type { DatabaseTarget } from './url.ts';

/**
 * A number that changes whenever anything is committed to the database by any connection: this
 * process's Prisma client, another cluster worker, a `cfg` command, a sqlite3 shell. Read caches
 * keep the value they loaded under and trust an entry only while it is unchanged.
 */
export interface DataVersion {
  /** The current value (a few microseconds: no query reaches a table). */
  read(): number;
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
  return {
    read: () => stmt.get() as number,
    close: () => db.close(),
  };
}
