import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CfgConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';
import { getLogger } from '../log/logger.ts';
import { registerErrorMapper } from '../call/boundary.ts';
// The project's generated client (tsconfig.json "paths": generated/prisma/sqlite/client.ts); in
// cfg's published declarations, the type a project names in ProjectTypes (prisma-client.d.ts).
import type { PrismaClient as SqliteClient } from '#prisma-client';
import type { Database } from 'better-sqlite3';
import type { Pool } from 'pg';
import { mapDatabaseError } from './errors.ts';
import { cacheStatements } from './statement-cache.ts';
import { openDataVersion, type DataVersion } from './data-version.ts';
import { ensureSqliteDir, parseDatabaseUrl, type DatabaseTarget, type Provider } from './url.ts';

/**
 * The Prisma client cfg gives apps. Both generated clients (SQLite and PostgreSQL) have the same
 * model API, so app code is written once against this type; `provider` says which one it is.
 */
export type Db = SqliteClient & { readonly provider: Provider };

/**
 * Where a project that installed cfg names its own Prisma client type, so that `Db` (getDb(),
 * this.db) has its models (`cfg startproject` writes this into cfg-env.d.ts):
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
   * from its prisma/schema.prisma) is used. Default: the root of the config getDb() uses, or of
   * the nearest cfg.config.ts above the working directory.
   */
  root?: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /**
   * Called with every SQL statement and its duration (tests count queries with it; the shared
   * client logs them to the "db" logger at debug level). Off by default: it costs a little per query.
   */
  onQuery?: (sql: string, durationMs: number) => void;
}

registerErrorMapper(mapDatabaseError);

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
 * the "db" debug log and setQueryListener on the shared client), undefined when off: SQL sent on
 * the pool directly should be reported to it, as Prisma reports its own.
 */
export type SqlDriver =
  | { readonly provider: 'postgresql'; readonly pool: Pool; readonly onQuery: ((sql: string, durationMs: number) => void) | undefined }
  | { readonly provider: 'sqlite'; readonly file: string };

const drivers = new WeakMap<object, SqlDriver>();

/** The driver under a client made by createDb()/getDb(). */
export function sqlDriver(db: Db): SqlDriver {
  const driver = drivers.get(db);
  if (!driver) throw new TypeError('sqlDriver: not a client made by createDb()');
  return driver;
}

/** The pool's counts for a PostgreSQL client; null for SQLite (one embedded connection, no pool). */
export function poolStats(db: Db): PoolStats | null {
  const driver = drivers.get(db);
  if (driver?.provider !== 'postgresql') return null;
  const { pool } = driver;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/**
 * The project's generated Prisma client module. In cfg's own repository, a project without one
 * (the test suites' temporary projects) uses the repository's; an installed cfg has none of its
 * own, so there the project's is the only one.
 */
async function prismaClientModule(provider: Provider, root: string | undefined): Promise<{ PrismaClient: new (options: object) => SqliteClient }> {
  const project = root ?? activeConfig?.root ?? (await import('../config/load.ts')).findProjectRoot(process.cwd()) ?? process.cwd();
  const own = new URL(`../../generated/prisma/${provider}/client.ts`, import.meta.url);
  const file = join(project, 'generated', 'prisma', provider, 'client.ts');
  const url = existsSync(file) ? pathToFileURL(file) : existsSync(own) ? own : null;
  if (!url) throw new CfgError('E_DB', `No Prisma client in ${join(project, 'generated', 'prisma', provider)}.`, 'Run cfg setup: it generates the Prisma clients from prisma/schema.prisma.');
  return (await import(url.href)) as { PrismaClient: new (options: object) => SqliteClient };
}

/** A new client for `target` (most code wants the shared one: getDb()). */
export async function createDb(target: DatabaseTarget, options: CreateDbOptions = {}): Promise<Db> {
  const log = options.onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [];
  let client: SqliteClient;
  if (target.provider === 'sqlite') {
    ensureSqliteDir(target.file);
    const [{ PrismaClient }, { PrismaBetterSqlite3 }] = await Promise.all([
      prismaClientModule('sqlite', options.root),
      import('@prisma/adapter-better-sqlite3'),
    ]);
    const factory = new PrismaBetterSqlite3({ url: target.file, timeout: SQLITE_BUSY_TIMEOUT_MS });
    const connect = factory.connect.bind(factory);
    // Reuse compiled statements on the adapter's connection (see statement-cache.ts).
    factory.connect = async () => {
      const adapter = await connect();
      cacheStatements((adapter as unknown as { client: Database }).client);
      return adapter;
    };
    client = new PrismaClient({ adapter: factory, log });
    drivers.set(client, { provider: 'sqlite', file: target.file });
  } else {
    const [{ PrismaClient }, { PrismaPg }, { default: pg }] = await Promise.all([
      prismaClientModule('postgresql', options.root),
      import('@prisma/adapter-pg'),
      import('pg'),
    ]);
    // Models are qualified with the schema by Prisma; search_path makes raw SQL ($queryRaw) see the
    // same tables, as Prisma's own engine does for ?schema=.
    const searchPath = `-c search_path="${target.schema.replace(/"/g, '""').replace(/[\\ ]/g, '\\$&')}"`;
    // cfg makes the pool itself (the adapter ends it on $disconnect) so that its counts can be read.
    const pool = new pg.Pool({ connectionString: target.connectionString, max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000, options: searchPath });
    const adapter = new PrismaPg(pool, { schema: target.schema, disposeExternalPool: true });
    client = new PrismaClient({ adapter, log }) as unknown as SqliteClient;
    drivers.set(client, { provider: 'postgresql', pool, onQuery: options.onQuery });
  }
  if (options.onQuery) {
    const onQuery = options.onQuery;
    type QueryEvent = { query: string; duration: number };
    (client as unknown as { $on(e: 'query', f: (ev: QueryEvent) => void): void }).$on('query', (ev) => onQuery(ev.query, Number(ev.duration)));
  }
  return Object.assign(client, { provider: target.provider }) as Db;
}

let shared: Promise<Db> | undefined;
let sharedVersion: Promise<DataVersion | undefined> | undefined;
/** What the shared client was opened on. */
let sharedTarget: DatabaseTarget | undefined;
let queryListener: ((sql: string) => void) | undefined;

/**
 * Sees every SQL statement of the shared client created after this call (tests count queries
 * with it: a list must cost the same number of queries whatever its length). Off by default.
 */
export function setQueryListener(listener: ((sql: string) => void) | undefined): void {
  queryListener = listener;
}
let activeConfig: CfgConfig | undefined;

/** Which config getDb() uses (rungrpc sets it at start; otherwise cfg.config.ts is loaded). */
export function useDbConfig(config: CfgConfig): void {
  activeConfig = config;
}

/** The process's one Prisma client, created on first use. */
export function getDb(config?: CfgConfig): Promise<Db> {
  shared ??= (async () => {
    const cfg = config ?? activeConfig ?? (await (await import('../config/load.ts')).loadConfig({ required: false }));
    // Like Django's django.db.backends logger: every query, when "db" is at debug level.
    const log = getLogger('db');
    const listener = queryListener;
    const debug = log.isEnabled('debug');
    const onQuery =
      debug || listener
        ? (sql: string, durationMs: number) => {
            listener?.(sql);
            if (debug) log.debug('query', { sql, durationMs });
          }
        : undefined;
    sharedTarget = parseDatabaseUrl(cfg.database.url, cfg.root);
    return createDb(sharedTarget, { root: cfg.root, poolSize: cfg.database.poolSize ?? undefined, ...(onQuery ? { onQuery } : {}) });
  })();
  shared.catch(() => (shared = undefined));
  return shared;
}

/**
 * The shared database's DataVersion (see data-version.ts): changes whenever anything is committed
 * to it, from this process or any other. Undefined on PostgreSQL, which has no such counter.
 */
export function getDataVersion(): Promise<DataVersion | undefined> {
  sharedVersion ??= getDb().then(() => openDataVersion(sharedTarget!));
  sharedVersion.catch(() => (sharedVersion = undefined));
  return sharedVersion;
}

/** Closes the shared client (on shutdown). */
export async function closeDb(): Promise<void> {
  const current = shared;
  const version = sharedVersion;
  shared = undefined;
  sharedVersion = undefined;
  (await version?.catch(() => undefined))?.close();
  if (current) await (await current.catch(() => undefined))?.$disconnect();
}
