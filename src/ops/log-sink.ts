import type { DatabaseTarget } from '../db/url.ts';

/** Where request log rows go: one connection of its own, used by the writer only. */
export interface LogSink {
  /** Inserts rows (values in COLUMNS order) in one transaction. */
  insert(rows: readonly unknown[][]): Promise<void>;
  close(): Promise<void>;
}

export const COLUMNS = ['id', 'createdAt', 'service', 'method', 'code', 'durationMs', 'peer', 'userId', 'apiKeyId', 'error', 'requestSize', 'responseSize', 'serverId'] as const;
const NAMES = COLUMNS.map((c) => `"${c}"`).join(',');
/** Most rows per INSERT on PostgreSQL: at most 65535 parameters in one statement. */
export const MAX_ROWS = Math.floor(65_535 / COLUMNS.length);

/**
 * Opens the request log's own connection to the configured database, bypassing Prisma: measured
 * here, a row through Prisma's raw queries costs 120 us (SQLite) to 320 us (PostgreSQL) of the
 * server's CPU, against about 20 us through the drivers, and the request log must stay cheap.
 * SQLite: a better-sqlite3 connection (busy timeout 5 s) and one prepared INSERT run per row in a
 * transaction. PostgreSQL: a one-connection pg pool and a multi-row INSERT.
 */
export async function openLogSink(target: DatabaseTarget): Promise<LogSink> {
  if (target.provider === 'sqlite') {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(target.file, { timeout: 5000, fileMustExist: true });
    const stmt = db.prepare(`INSERT INTO "grpc_request_log" (${NAMES}) VALUES (${COLUMNS.map(() => '?').join(',')})`);
    const insertAll = db.transaction((rows: readonly unknown[][]) => {
      for (const row of rows) stmt.run(row);
    });
    return {
      async insert(rows) {
        insertAll(rows);
      },
      async close() {
        db.close();
      },
    };
  }
  const { default: pg } = await import('pg');
  const searchPath = `-c search_path="${target.schema.replace(/"/g, '""').replace(/[\\ ]/g, '\\$&')}"`;
  const pool = new pg.Pool({ connectionString: target.connectionString, max: 1, connectionTimeoutMillis: 5000, options: searchPath });
  pool.on('error', () => {}); // an idle connection dropped by the server: the next insert reconnects
  const statements = new Map<number, string>();
  const sqlFor = (n: number) => {
    let sql = statements.get(n);
    if (sql === undefined) {
      let p = 0;
      const row = () => `(${COLUMNS.map(() => `$${++p}`).join(',')})`;
      sql = `INSERT INTO "grpc_request_log" (${NAMES}) VALUES ${Array.from({ length: n }, row).join(',')}`;
      if (statements.size > 50) statements.clear();
      statements.set(n, sql);
    }
    return sql;
  };
  return {
    async insert(rows) {
      for (let i = 0; i < rows.length; i += MAX_ROWS) {
        const chunk = rows.slice(i, i + MAX_ROWS);
        await pool.query(sqlFor(chunk.length), chunk.flat());
      }
    },
    async close() {
      await pool.end();
    },
  };
}
