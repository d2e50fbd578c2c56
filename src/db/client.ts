import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CfgConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';
import { getLogger } from '../log/logger.ts';
import type { Database as SqliteConnection } from 'better-sqlite3';
import type { Pool } from 'pg';
import { cacheStatements } from './statement-cache.ts';
import { sqliteDataVersion, type DataVersion } from './data-version.ts';
import { portable, type PortableClient, type PostgresClient } from './portable.ts';
import { ensureSqliteDir, parseDatabaseUrl, type DatabaseTarget, type Provider } from './url.ts';

/**
 * A database handle: the Prisma client, typed with the API both databases serve (see
 * portable.ts), and `provider` saying which one it is. Made by openDb(config) or createDb(target);
 * whoever makes one closes it with closeDb(db). The server opens one at start, hands it to
 * everything that reads or writes (services get it as `this.db`), and closes it on stop.
 *
 * What cfg keeps with the client is read through functions of the handle: getDataVersion(db),
 * poolStats(db), sqlDriver(db), dbTarget(db), postgresClient(db).
 */
export type Db = PortableClient & { readonly provider: Provider };

/**
 * Where a project that installed cfg names its own Prisma client type, so that `Db` (this.db,
 * openDb()) has its models (`cfg startproject` writes this into cfg-env.d.ts):
 *
 *   declare module 'cfg-grpc/db' {
 *     interface ProjectTypes { prismaClient: import('./generated/prisma/sqlite/client.ts').PrismaClient }
 *   }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by a project's declaration merging
export interface ProjectTypes {}

export interface CreateDbOptions {
  /**
   * The project whose Prisma client (generated/prisma/<provider>/client.ts, written by cfg setup
   * from its prisma/schema.prisma) is used. Default: the nearest folder with cfg.config.ts above
   * the working directory (openDb(config) passes the config's root).
   */
  root?: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /**
   * Called with every SQL statement and its duration (tests count queries with it; openDb logs
   * them to the "db" logger at debug level). Off by default: it costs a little per query.
   */
  onQuery?: (sql: string, durationMs: number) => void;
}

/**
 * How long a Prisma query on SQLite waits for another connection's write lock before failing with
 * SQLITE_BUSY (then UNAVAILABLE "Database busy", retryable, not an outage). better-sqlite3 waits
 * synchronously, freezing the whole event loop, so this is short (its default is 5 s). Writers
 * that hold the lock do so for well under a millisecond (the crypto app's ledger commits in one
 * synchronous transaction); a longer wait means an outside transaction, and the call should fail
 * rather than stall every other call.
 */
const SQLITE_BUSY_TIMEOUT_MS = 100;

/** A PostgreSQL pool's connections right now (pg's totalCount, idleCount, waitingCount). */
export interface PoolStats {
  readonly total: number;
  readonly idle: number;
  /** Queries waiting for a free connection. */
  readonly waiting: number;
}

/**
 * What a client runs on, for the rare hot path that sends its own SQL (the crypto app's money
 * path and its GetCoin on PostgreSQL): PostgreSQL's pg pool (shared with Prisma; take a connection
 * and give it back, or pool.query), or the SQLite file (open a connection of your own: Prisma's
 * runs its transactions across awaits). `onQuery` is the client's query hook (createDb's option,
 * the "db" debug log of openDb), undefined when off: SQL sent on the pool directly should be
 * reported to it, as Prisma reports its own.
 */
export type SqlDriver =
  | { readonly provider: 'postgresql'; readonly pool: Pool; readonly onQuery: ((sql: string, durationMs: number) => void) | undefined }
  | { readonly provider: 'sqlite'; readonly file: string };

/** What cfg keeps with each handle (one entry per client, shared by its read-only view). */
interface DbState {
  readonly target: DatabaseTarget;
  readonly driver: SqlDriver;
  readonly client: Db;
  /** SQLite: opens the data version connection (on first getDataVersion). */
  readonly openVersion: (() => DataVersion) | undefined;
  version: DataVersion | undefined;
  closing: Promise<void> | undefined;
}

const states = new WeakMap<object, DbState>();

function stateOf(db: Db, caller: string): DbState {
  const state = states.get(db);
  if (!state) throw new TypeError(`${caller}: not a client made by openDb() or createDb()`);
  return state;
}

/**
 * The project's generated Prisma client module. In cfg's own repository, a project without one
 * (the test suites' temporary projects) uses the repository's; an installed cfg has none of its
 * own, so there the project's is the only one.
 */
async function prismaClientModule<C>(provider: Provider, root: string | undefined): Promise<{ PrismaClient: new (options: object) => C }> {
  const project = root ?? (await import('../config/load.ts')).findProjectRoot(process.cwd()) ?? process.cwd();
  const own = new URL(`../../generated/prisma/${provider}/client.ts`, import.meta.url);
  const file = join(project, 'generated', 'prisma', provider, 'client.ts');
  const url = existsSync(file) ? pathToFileURL(file) : existsSync(own) ? own : null;
  if (!url)
    throw new CfgError(
      'E_DB',
      `No Prisma client in ${join(project, 'generated', 'prisma', provider)}.`,
      'Run cfg setup: it generates the Prisma clients from prisma/schema.prisma.',
    );
  return (await import(url.href)) as { PrismaClient: new (options: object) => C };
}

/** A new handle on `target` (openDb(config) makes one from cfg.config.ts's database settings). */
export async function createDb(target: DatabaseTarget, options: CreateDbOptions = {}): Promise<Db> {
  const log = options.onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [];
  let client: PortableClient;
  let driver: SqlDriver;
  let openVersion: (() => DataVersion) | undefined;
  if (target.provider === 'sqlite') {
    ensureSqliteDir(target.file);
    const [{ PrismaClient }, { PrismaBetterSqlite3 }, { default: Sqlite }] = await Promise.all([
      prismaClientModule<PortableClient>('sqlite', options.root),
      import('@prisma/adapter-better-sqlite3'),
      import('better-sqlite3'),
    ]);
    const factory = new PrismaBetterSqlite3({ url: target.file, timeout: SQLITE_BUSY_TIMEOUT_MS });
    const connect = factory.connect.bind(factory);
    // Reuse compiled statements on the adapter's connection (see statement-cache.ts).
    factory.connect = async () => {
      const adapter = await connect();
      cacheStatements((adapter as unknown as { client: SqliteConnection }).client);
      return adapter;
    };
    client = new PrismaClient({ adapter: factory, log });
    driver = { provider: 'sqlite', file: target.file };
    openVersion = () => sqliteDataVersion(Sqlite, target.file);
  } else {
    const [{ PrismaClient }, { PrismaPg }, { default: pg }] = await Promise.all([
      prismaClientModule<PostgresClient>('postgresql', options.root),
      import('@prisma/adapter-pg'),
      import('pg'),
    ]);
    // Models are qualified with the schema by Prisma; search_path makes raw SQL ($queryRaw) see the
    // same tables, as Prisma's own engine does for ?schema=.
    const searchPath = `-c search_path="${target.schema.replace(/"/g, '""').replace(/[\\ ]/g, '\\$&')}"`;
    // cfg makes the pool itself (the adapter ends it on $disconnect) so that its counts can be read.
    const pool = new pg.Pool({
      connectionString: target.connectionString,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      options: searchPath,
    });
    const adapter = new PrismaPg(pool, { schema: target.schema, disposeExternalPool: true });
    const pgClient: PostgresClient = new PrismaClient({ adapter, log });
    client = portable(pgClient);
    driver = { provider: 'postgresql', pool, onQuery: options.onQuery };
  }
  if (options.onQuery) {
    const onQuery = options.onQuery;
    type QueryEvent = { query: string; duration: number };
    (client as unknown as { $on(e: 'query', f: (ev: QueryEvent) => void): void }).$on('query', (ev) =>
      onQuery(ev.query, Number(ev.duration)),
    );
  }
  const db = Object.assign(client, { provider: target.provider });
  states.set(db, { target, driver, client: db, openVersion, version: undefined, closing: undefined });
  return db;
}

/**
 * A handle on the project's database (cfg.config.ts database.url and poolSize). Every query is
 * logged to the "db" logger when it is at debug level, like Django's django.db.backends logger;
 * `onQuery` sees them too.
 */
export function openDb(config: CfgConfig, options: Pick<CreateDbOptions, 'onQuery'> = {}): Promise<Db> {
  const log = getLogger('db');
  const debug = log.isEnabled('debug');
  const given = options.onQuery;
  const onQuery =
    debug && given
      ? (sql: string, durationMs: number) => {
          given(sql, durationMs);
          log.debug('query', { sql, durationMs });
        }
      : debug
        ? (sql: string, durationMs: number) => log.debug('query', { sql, durationMs })
        : given;
  return createDb(parseDatabaseUrl(config.database.url, config.root), {
    root: config.root,
    poolSize: config.database.poolSize ?? undefined,
    ...(onQuery ? { onQuery } : {}),
  });
}

/**
 * Closes a handle: the Prisma client (and its pool) and the data version connection. Safe to call
 * twice; the handle cannot be used afterwards.
 */
export function closeDb(db: Db): Promise<void> {
  const state = stateOf(db, 'closeDb');
  if (defaultDb !== undefined && state.client === defaultClient) {
    defaultDb = undefined;
    defaultClient = undefined;
  }
  state.closing ??= (async () => {
    state.version?.close();
    state.version = undefined;
    await state.client.$disconnect();
  })();
  return state.closing;
}

/**
 * The handle's DataVersion (see data-version.ts): a number that changes whenever anything is
 * committed to the database, from this process or any other; opened on first call (a connection
 * of its own to the SQLite file, which must exist), then the same object. Undefined on
 * PostgreSQL, which has no such counter.
 */
export function getDataVersion(db: Db): DataVersion | undefined {
  const state = stateOf(db, 'getDataVersion');
  if (state.version === undefined && state.openVersion !== undefined) {
    if (state.closing) throw new Error('getDataVersion: the database handle is closed');
    state.version = state.openVersion();
  }
  return state.version;
}

/** The driver under a handle (see SqlDriver). */
export function sqlDriver(db: Db): SqlDriver {
  return stateOf(db, 'sqlDriver').driver;
}

/** What a handle was opened on: a SQLite file, or a PostgreSQL URL and schema. */
export function dbTarget(db: Db): DatabaseTarget {
  return stateOf(db, 'dbTarget').target;
}

/** The pool's counts for a PostgreSQL handle; null for SQLite (one embedded connection, no pool). */
export function poolStats(db: Db): PoolStats | null {
  const driver = states.get(db)?.driver;
  if (driver?.provider !== 'postgresql') return null;
  const { pool } = driver;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/**
 * The client typed as PostgreSQL's generated one, for arguments only PostgreSQL has
 * (`mode: 'insensitive'`, `skipDuplicates`); undefined on SQLite.
 *
 *     const pg = postgresClient(db);
 *     const rows = pg ? await pg.coin.findMany({ where: { name: { contains: q, mode: 'insensitive' } } }) : await db.coin.findMany(...);
 */
export function postgresClient(db: Db): PostgresClient | undefined {
  return db.provider === 'postgresql' ? (db as unknown as PostgresClient) : undefined;
}

/**
 * A client derived from `db` (Prisma's `$extends` returns a new object) as a handle on the same
 * database: same provider, driver and data version; closing either closes the database.
 */
export function derivedDb(db: Db, extended: object): Db {
  const state = stateOf(db, 'derivedDb');
  const derived = Object.assign(extended, { provider: db.provider }) as unknown as Db;
  states.set(derived, state);
  return derived;
}

let defaultDb: Promise<Db> | undefined;
let defaultClient: Db | undefined;

/**
 * A process-wide handle for scripts that run outside a server (a one-off report, a REPL, an
 * `npx tsx` script): cfg.config.ts's database (or `config`'s), opened on first call and the same
 * afterwards until closeDb() is given it. Nothing in cfg uses it: the server, the commands and
 * the services each get their handle passed in. Inside a server use the service's `this.db`: a
 * handle from here is a second client, which the server does not close (a PostgreSQL pool left
 * open keeps the process alive).
 */
export function getDb(config?: CfgConfig): Promise<Db> {
  const opening = (defaultDb ??= (async () => {
    const cfg = config ?? (await (await import('../config/load.ts')).loadConfig({ required: false }));
    return (defaultClient = await openDb(cfg));
  })());
  opening.catch(() => {
    if (defaultDb === opening) defaultDb = undefined;
  });
  return opening;
}
