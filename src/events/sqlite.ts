import type { Database, Statement } from 'better-sqlite3';
import { getLogger } from '../log/logger.ts';
import type { Transport, TransportSink, TxClient } from './transport.ts';

const log = getLogger('events');
/** Rows are kept this long (every process has read them by then). */
const KEEP_SECONDS = 60;
/** Rows read per poll at most (the rest at the next). */
const BATCH = 1000;

export interface SqliteTransportOptions {
  file: string;
  pollMs: number;
  /** better-sqlite3's Database class (loaded only when this backend is chosen). */
  Database: typeof import('better-sqlite3');
}

/**
 * SQLite: events are rows of cfg_event, written in the transaction of the write they announce (a
 * trigger's, publishIn's) or on their own (publish); every process reads the rows after the last
 * it saw whenever PRAGMA data_version changes, which it does for any commit by any other
 * connection to the file: cluster workers, other rungrpc processes, a `cfg` command, a sqlite3
 * shell. Reading data_version costs microseconds, so it is polled (every events.pollMs). Rows
 * commit in id order (SQLite has one writer), so every process reads them in commit order.
 */
export class SqliteTransport implements Transport {
  readonly backend = 'sqlite' as const;
  readonly transactional = true;
  /** Opened once the file and its event table exist (a server may start on a database not yet migrated). */
  private open: { db: Database; version: Statement; after: Statement; insert: Statement } | undefined;
  private nextTry = 0;
  private lastVersion = -1;
  private lastId = 0;
  private sink: TransportSink | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pruner: NodeJS.Timeout | undefined;
  private polls = 0;

  constructor(private readonly options: SqliteTransportOptions) {
    this.tryOpen();
  }

  /** Opens the connection and its statements; until the file and cfg_event exist, tries again every second. */
  private tryOpen(): boolean {
    if (this.open) return true;
    if (performance.now() < this.nextTry) return false;
    this.nextTry = performance.now() + 1_000;
    let db: Database | undefined;
    try {
      db = new this.options.Database(this.options.file, { fileMustExist: true });
      db.pragma('busy_timeout = 1000');
      const version = db.prepare('PRAGMA data_version').pluck();
      const after = db.prepare(`SELECT "id", "payload" FROM "cfg_event" WHERE "id" > ? ORDER BY "id" LIMIT ${BATCH}`);
      const insert = db.prepare('INSERT INTO "cfg_event" ("topic", "payload") VALUES (?, ?)');
      this.lastId = Number(db.prepare('SELECT COALESCE(MAX("id"), 0) FROM "cfg_event"').pluck().get());
      this.open = { db, version, after, insert };
      return true;
    } catch (err) {
      db?.close();
      log.debug(`event table not readable yet (${(err as Error).message}); events of other processes are not seen until it is`);
      return false;
    }
  }

  start(sink: TransportSink): void {
    this.sink = sink;
    this.timer = setInterval(() => this.poll(), this.options.pollMs);
    this.timer.unref();
    // Rows every process has read go now and then (any process may; a busy file waits for the next turn).
    this.pruner = setInterval(() => this.prune(), (KEEP_SECONDS * 1000) / 2);
    this.pruner.unref();
    sink.up(false);
  }

  async send(topic: string, text: string): Promise<void> {
    if (this.tryOpen()) this.open!.insert.run(topic, text);
  }

  async sendIn(tx: TxClient, topic: string, text: string): Promise<void> {
    await tx.$executeRawUnsafe('INSERT INTO "cfg_event" ("topic", "payload") VALUES (?, ?)', topic, text);
  }

  /** The poll is synchronous: a heartbeat is back once the next poll has run (never while the table cannot be read). */
  ping(token: string): void {
    const at = this.polls;
    let tries = 0;
    const check = () => {
      if (this.polls > at) this.sink?.pong(token);
      else if (this.open && ++tries < 100) setTimeout(check, this.options.pollMs).unref();
    };
    check();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.pruner);
    this.open?.db.close();
    this.open = undefined;
  }

  private poll(): void {
    if (!this.tryOpen()) return;
    const { version: versionOf, after } = this.open!;
    try {
      const version = versionOf.get() as number;
      if (version !== this.lastVersion) {
        for (let more = true; more; ) {
          const rows = after.all(this.lastId) as Array<{ id: number; payload: string }>;
          for (const row of rows) {
            this.lastId = row.id;
            this.sink?.message(row.payload);
          }
          more = rows.length === BATCH;
        }
        // Only once the rows were read: a read that failed (SQLITE_BUSY) is tried again at the next poll.
        this.lastVersion = version;
      }
      this.polls++;
    } catch (err) {
      log.debug(`event poll failed: ${(err as Error).message}`);
    }
  }

  private prune(): void {
    try {
      this.open?.db.prepare(`DELETE FROM "cfg_event" WHERE "createdAt" < datetime('now', '-${KEEP_SECONDS} seconds')`).run();
    } catch {
      // the next turn
    }
  }
}
