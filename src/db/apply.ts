import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { CfgError } from '../errors.ts';
import { listMigrations, type MigrationFile } from './migrations.ts';
import { ensureSqliteDir, type DatabaseTarget } from './url.ts';

export interface MigrationState {
  applied: Array<{ name: string; finishedAt: string; checksumMatches: boolean }>;
  pending: MigrationFile[];
}

/** The few things migrate needs from a database, over its plain driver. */
interface Conn {
  exec(sql: string): Promise<void>;
  rows(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  run(sql: string, params: unknown[]): Promise<void>;
  /** Whether the bookkeeping table exists (read-only connections never create it). */
  hasMigrationsTable(): Promise<boolean>;
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): Promise<void>;
}

// The bookkeeping table `prisma migrate deploy` uses, so either tool accepts the other's history.
const TABLE = {
  sqlite: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" ("id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME, "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME, "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`,
  postgresql: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`,
};

/**
 * A connection for migrating (`readOnly` false: creates the SQLite file or the PostgreSQL schema,
 * and holds Prisma's advisory lock), or for reading the state only (creates nothing, locks
 * nothing; null when the SQLite file does not exist yet). Driver errors are left as they are:
 * the command's database helper (src/commands/database.ts) turns them into one line.
 */
async function connect(target: DatabaseTarget, readOnly: true): Promise<Conn | null>;
async function connect(target: DatabaseTarget, readOnly?: false): Promise<Conn>;
async function connect(target: DatabaseTarget, readOnly = false): Promise<Conn | null> {
  if (target.provider === 'sqlite') {
    if (readOnly && !existsSync(target.file)) return null;
    if (!readOnly) ensureSqliteDir(target.file);
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(target.file, readOnly ? { readonly: true, fileMustExist: true } : {});
    db.pragma('busy_timeout = 5000');
    // WAL (kept in the file) lets readers work while the server writes.
    if (!readOnly) db.pragma('journal_mode = WAL');
    return {
      exec: async (sql) => void db.exec(sql),
      rows: async (sql, params = []) => db.prepare(sql).all(...params) as Array<Record<string, unknown>>,
      run: async (sql, params) => void db.prepare(sql).run(...params),
      hasMigrationsTable: async () =>
        db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'`).get() !== undefined,
      // Foreign keys are switched off around each migration (SQLite ignores the switch inside a
      // transaction): Prisma redefines a table by copy, drop and rename, and with them on, the drop
      // would run ON DELETE CASCADE on the rows that point at it. They are checked before commit.
      begin: async () => void db.exec('PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE'),
      commit: async () => {
        const broken = db.pragma('foreign_key_check') as Array<{ table: string; parent: string }>;
        if (broken.length > 0) {
          const { table, parent } = broken[0]!;
          throw new Error(`FOREIGN KEY constraint failed: ${broken.length} row(s) of ${table} point at missing ${parent} rows`);
        }
        db.exec('COMMIT; PRAGMA foreign_keys = ON');
      },
      rollback: async () => void db.exec(db.inTransaction ? 'ROLLBACK; PRAGMA foreign_keys = ON' : 'PRAGMA foreign_keys = ON'),
      close: async () => void db.close(),
    };
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: target.connectionString, connectionTimeoutMillis: 10_000 });
  // An error the server sends while the client idles would otherwise be thrown as 'error'.
  client.on('error', () => {});
  await client.connect();
  const schema = target.schema.replace(/"/g, '""');
  if (!readOnly) {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    // One migrator at a time (the same lock number Prisma uses).
    await client.query('SELECT pg_advisory_lock(72707369)');
  }
  await client.query(`SET search_path TO "${schema}"`);
  const toPg = (sql: string) => {
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  };
  return {
    exec: async (sql) => void (await client.query(sql)),
    rows: async (sql, params = []) => (await client.query(toPg(sql), params)).rows,
    run: async (sql, params) => void (await client.query(toPg(sql), params)),
    hasMigrationsTable: async () =>
      (
        await client.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = '_prisma_migrations'`, [
          target.schema,
        ])
      ).rowCount !== 0,
    begin: async () => void (await client.query('BEGIN')),
    commit: async () => void (await client.query('COMMIT')),
    rollback: async () => void (await client.query('ROLLBACK')),
    close: async () => {
      if (!readOnly) await client.query('SELECT pg_advisory_unlock(72707369)').catch(() => {});
      await client.end();
    },
  };
}

async function state(conn: Conn | null, root: string, target: DatabaseTarget): Promise<MigrationState> {
  const files = listMigrations(root, target.provider);
  if (!conn || !(await conn.hasMigrationsTable())) return { applied: [], pending: files };
  const rows = await conn.rows(
    'SELECT "migration_name", "checksum", "finished_at" FROM "_prisma_migrations" WHERE "rolled_back_at" IS NULL AND "finished_at" IS NOT NULL ORDER BY "migration_name"',
  );
  const done = new Map(rows.map((r) => [String(r.migration_name), r]));
  return {
    applied: rows.map((r) => ({
      name: String(r.migration_name),
      finishedAt: String(r.finished_at),
      checksumMatches: files.find((f) => f.name === r.migration_name)?.checksum === r.checksum,
    })),
    pending: files.filter((f) => !done.has(f.name)),
  };
}

/**
 * Applied and pending migrations of the configured database, read without changing anything: no
 * SQLite file, schema or bookkeeping table is created (a database that has none has every
 * migration pending). A project without migrations is not even connected to.
 */
export async function migrationStatus(root: string, target: DatabaseTarget): Promise<MigrationState> {
  if (listMigrations(root, target.provider).length === 0) return { applied: [], pending: [] };
  const conn = await connect(target, true);
  try {
    return await state(conn, root, target);
  } finally {
    await conn?.close();
  }
}

/**
 * Applies pending migrations in order, each in its own transaction with its bookkeeping row:
 * a failing migration is rolled back whole (the database is left as it was before it) and
 * stops the run with the file and the database's error. Running again applies nothing new.
 */
export async function applyMigrations(
  root: string,
  target: DatabaseTarget,
  onApplied: (name: string) => void = () => {},
): Promise<string[]> {
  const conn = await connect(target);
  const applied: string[] = [];
  try {
    await conn.exec(TABLE[target.provider]);
    const { pending } = await state(conn, root, target);
    for (const m of pending) {
      await conn.begin();
      try {
        const started = new Date().toISOString();
        await conn.exec(m.sql);
        await conn.run(
          'INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "started_at", "applied_steps_count") VALUES (?, ?, ?, ?, NULL, ?, 1)',
          [randomUUID(), m.checksum, new Date().toISOString(), m.name, started],
        );
        await conn.commit();
      } catch (err) {
        await conn.rollback().catch(() => {});
        throw new CfgError(
          'E_MIGRATION',
          `Migration ${relative(root, m.file)} failed and was rolled back: ${(err as Error).message}`,
          'Fix that migration.sql (or the database), then run cfg migrate again; earlier migrations stay applied.',
          { cause: err },
        );
      }
      applied.push(m.name);
      onApplied(m.name);
    }
    return applied;
  } finally {
    await conn.close();
  }
}
