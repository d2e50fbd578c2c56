import { Worker } from 'node:worker_threads';
import type { DatabaseTarget } from '../db/url.ts';

/** Where request log rows go: one connection of its own, used by the writer only. */
export interface LogSink {
  /** Inserts rows (values in COLUMNS order) in one transaction. */
  insert(rows: readonly unknown[][]): Promise<void>;
  close(): Promise<void>;
}

export const COLUMNS = [
  'id',
  'createdAt',
  'service',
  'method',
  'code',
  'durationMs',
  'peer',
  'userId',
  'apiKeyId',
  'error',
  'requestSize',
  'responseSize',
  'serverId',
  'protocol',
] as const;
const NAMES = COLUMNS.map((c) => `"${c}"`).join(',');
/** Most rows per INSERT on PostgreSQL: at most 65535 parameters in one statement. */
export const MAX_ROWS = Math.floor(65_535 / COLUMNS.length);

/**
 * Opens the request log's own connection to the configured database, bypassing Prisma: measured
 * here, a row through Prisma's raw queries costs 120 us (SQLite) to 320 us (PostgreSQL) of the
 * server's CPU, against about 20 us through the drivers, and the request log must stay cheap.
 * SQLite: a better-sqlite3 connection (busy timeout 5 s) in a worker thread, one prepared INSERT
 * per row in one transaction per batch, so the inserts (~5% of the server's CPU at full load when
 * they ran on its thread) leave the thread that serves calls. PostgreSQL: a one-connection pg
 * pool and a multi-row INSERT (pg does its I/O off the thread already).
 */
export async function openLogSink(target: DatabaseTarget): Promise<LogSink> {
  if (target.provider === 'sqlite') return openSqliteSink(target.file);
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

/** A worker thread that owns the SQLite connection; resolves once it has opened the file. */
function openSqliteSink(file: string): Promise<LogSink> {
  const sql = `INSERT INTO "grpc_request_log" (${NAMES}) VALUES (${COLUMNS.map(() => '?').join(',')})`;
  const worker = new Worker(new URL('./sqlite-log-worker.mjs', import.meta.url), { workerData: { file, sql } });
  worker.unref(); // never keeps the process alive; close() flushes first on graceful shutdown
  const waiting = new Map<number, { resolve(): void; reject(err: Error): void }>();
  let nextId = 0;
  let dead: Error | undefined;
  let onClosed: (() => void) | undefined;
  const fail = (err: Error) => {
    dead ??= err;
    for (const w of waiting.values()) w.reject(dead);
    waiting.clear();
    onClosed?.();
  };
  return new Promise<LogSink>((resolve, reject) => {
    worker.on('error', (err) => {
      fail(err);
      reject(err);
    });
    worker.on('exit', (code) => {
      fail(new Error(`request log writer thread exited (${code})`));
      reject(dead);
    });
    worker.on('message', (msg: { ready?: boolean; error?: string; id?: number; closed?: boolean }) => {
      if (msg.ready === true) {
        resolve({
          insert(rows) {
            if (dead) return Promise.reject(dead);
            const id = nextId++;
            return new Promise<void>((ok, no) => {
              waiting.set(id, { resolve: ok, reject: no });
              worker.postMessage({ id, rows });
            });
          },
          close() {
            if (dead) return Promise.resolve();
            return new Promise<void>((done) => {
              onClosed = done;
              worker.postMessage({ close: true });
            }).then(() => worker.terminate().then(() => undefined));
          },
        });
      } else if (msg.ready === false) {
        reject(new Error(msg.error));
        void worker.terminate();
      } else if (msg.closed) {
        onClosed?.();
      } else if (msg.id !== undefined) {
        const w = waiting.get(msg.id);
        waiting.delete(msg.id);
        if (msg.error === undefined) w?.resolve();
        else w?.reject(new Error(msg.error));
      }
    });
  });
}
