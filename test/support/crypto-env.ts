// A running crypto app on a fresh database, for the crypto tests: SQLite in a temp file, or
// PostgreSQL in a schema of its own; migrated, seeded and given its users in this process (with
// the functions `cfg migrate`, `cfg seed` and `cfg createuser` run, whose own tests spawn them),
// served by a real `cfg rungrpc` child process, with tokens minted as `cfg token` mints them.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { cryptoClient, type CryptoClient } from '../../apps/crypto/grpc_services/client.ts';
import { mintAccessToken } from '../../src/auth/tokens.ts';
import { resolveConfig } from '../../src/config/resolve.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
export const PG_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
export type Provider = 'sqlite' | 'postgresql';

export function cfg(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['bin/cfg.js', ...args],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`cfg ${args.join(' ')} failed: ${stderr || err.message}`));
        else resolve(stdout.trim());
      },
    );
  });
}

/**
 * What `cfg migrate`, `cfg seed` and two `cfg createuser` would do, without four process start-ups
 * (each loads tsx and the Prisma client again: seconds of CPU per test file on a busy machine).
 */
async function prepare(env: NodeJS.ProcessEnv): Promise<void> {
  const [{ resolveConfig }, { parseDatabaseUrl }, { applyMigrations }, { createDb }, { runSeeds }, { upsertUser }] = await Promise.all([
    import('../../src/config/resolve.ts'),
    import('../../src/db/url.ts'),
    import('../../src/db/apply.ts'),
    import('../../src/db/client.ts'),
    import('../../src/db/seed.ts'),
    import('../../src/auth/manage.ts'),
  ]);
  const config = resolveConfig({ grpc: { enabledApps: ['crypto'] } }, { root: ROOT, env });
  const target = parseDatabaseUrl(config.database.url, ROOT);
  await applyMigrations(ROOT, target);
  const db = await createDb(target, { poolSize: 2 });
  try {
    await runSeeds(config, db);
    await upsertUser(db, { username: 'carol', email: 'carol@example.com' });
    await upsertUser(db, { username: 'editor', perm: ['crypto.add_coin', 'crypto.change_coin'], knownPermsOnly: true });
  } finally {
    await db.$disconnect();
  }
}

export interface CryptoEnv {
  provider: Provider;
  env: NodeJS.ProcessEnv;
  port: number;
  address: string;
  child: ChildProcess;
  logs: () => string;
  /** A client authenticated as `username` (anonymous when undefined). */
  client(username?: string): Promise<CryptoClient>;
  token(username: string): Promise<string>;
  /** SQL (no parameters; quote camelCase columns) against the app's database, to read or write; integers come back as strings. */
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  /**
   * PostgreSQL with `ownDatabase`: the database's own deadlock and rollback counters
   * (pg_stat_database). A connection reports its counts when its transaction ends (at most once a
   * second) or when it closes: read them after stopServer() to see everything the server did.
   */
  counters(): Promise<PgCounters>;
  /** Stops the server (SIGTERM) and, on PostgreSQL, waits until its connections have closed. */
  stopServer(): Promise<void>;
  stop(): Promise<void>;
}

export interface PgCounters {
  deadlocks: number;
  rollbacks: number;
}

export interface StartOptions {
  /** The database URL the server uses, from the one migrations and seeds used (e.g. through a proxy). */
  serverDatabaseUrl?: (url: string) => string;
  /**
   * PostgreSQL: a database of its own (dropped by stop()) instead of a schema in the shared one,
   * so that its counters (counters()) see this app's work alone.
   */
  ownDatabase?: boolean;
}

export interface CryptoServerProcess {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  /** SIGTERM (a graceful drain), resolved when the process has exited. */
  stop(): Promise<void>;
}

/**
 * A `cfg rungrpc` child serving the crypto app with this environment (a database prepared by
 * startCrypto: another server on the same data). Resolves once it listens.
 */
export async function spawnCryptoServer(serverEnv: NodeJS.ProcessEnv): Promise<CryptoServerProcess> {
  const child = spawn(process.execPath, ['bin/cfg.js', 'rungrpc'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...serverEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rungrpc did not start:\n${out}\n${err}`)), 60_000);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /listening on \S*:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`rungrpc exited ${code}:\n${out}\n${err}`)));
  });
  return {
    child,
    port,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function startCrypto(provider: Provider, extraEnv: NodeJS.ProcessEnv = {}, options: StartOptions = {}): Promise<CryptoEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-crypto-'));
  const schema = `cfg_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let admin: pg.Client | undefined;
  let database: string | undefined;
  let url: string;
  if (provider === 'postgresql') {
    let base = PG_URL;
    if (options.ownDatabase) {
      database = schema;
      const creator = new pg.Client({ connectionString: PG_URL });
      await creator.connect();
      await creator.query(`CREATE DATABASE ${database}`).finally(() => creator.end());
      const parsed = new URL(PG_URL);
      parsed.pathname = `/${database}`;
      base = parsed.toString();
    }
    admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    url = `${base}?schema=${schema}`;
  } else {
    url = `file:${join(dir, 'crypto.sqlite3')}`;
  }
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: url,
    CFG_SECRET_KEY: 'test-secret-key-for-crypto',
    CFG_GRPC_HOST: '127.0.0.1',
    CFG_GRPC_PORT: '0',
    // The crypto app serves its web listener on 8080 (cfg.config.ts): tests run in parallel, so a free port.
    CFG_WEB_PORT: '0',
    CFG_LOG_FORMAT: 'json',
    ...extraEnv,
  };
  await prepare(env);

  const serverEnv = options.serverDatabaseUrl ? { ...env, DATABASE_URL: options.serverDatabaseUrl(String(env.DATABASE_URL)) } : env;
  const server = await spawnCryptoServer(serverEnv);
  const { child, port, stderr } = server;
  const tokens = new Map<string, string>();
  const tokenConfig = resolveConfig({ grpc: { auth: { jwtSecretKey: String(env.CFG_SECRET_KEY) } } }, { root: ROOT, env: {} });
  const clients: CryptoClient[] = [];
  const address = `127.0.0.1:${port}`;
  const self: CryptoEnv = {
    provider,
    env,
    port,
    address,
    child,
    logs: stderr,
    async token(username) {
      // Minted in process, as `cfg token` mints it (the same function and secret), without a
      // process per user: on a busy machine each `cfg` run costs seconds (cfg token has tests of its own).
      if (!tokens.has(username)) {
        const [row] = await self.query(`SELECT id FROM auth_user WHERE username = '${username.replace(/'/g, "''")}'`);
        if (!row) throw new Error(`no user ${username}`);
        tokens.set(username, mintAccessToken(tokenConfig, Number(row.id), 3600));
      }
      return tokens.get(username)!;
    },
    async client(username) {
      const c = cryptoClient(address, username ? { token: await self.token(username) } : {});
      clients.push(c);
      return c;
    },
    async query(sql) {
      const stringify = (row: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' || typeof v === 'number' ? String(v) : v]));
      if (admin) {
        await admin.query(`SET search_path TO ${schema}`);
        return (await admin.query(sql)).rows.map(stringify);
      }
      const db = new Database(join(dir, 'crypto.sqlite3'), { timeout: 5_000 });
      try {
        const stmt = db.prepare(sql);
        if (!stmt.reader) {
          stmt.run();
          return [];
        }
        return (stmt.safeIntegers(true).all() as Array<Record<string, unknown>>).map(stringify);
      } finally {
        db.close();
      }
    },
    async counters() {
      if (!admin || !database) throw new Error('counters() needs PostgreSQL and ownDatabase');
      const [row] = (await admin.query('SELECT deadlocks, xact_rollback FROM pg_stat_database WHERE datname = $1', [database])).rows;
      return { deadlocks: Number(row.deadlocks), rollbacks: Number(row.xact_rollback) };
    },
    async stopServer() {
      for (const c of clients) c.close();
      await server.stop();
      // Backends end (and report their counts) a moment after their client is gone.
      for (let i = 0; database && i < 100; i++) {
        const { rows } = await admin!.query('SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
          database,
        ]);
        if (Number(rows[0].n) === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await self.stopServer();
      if (admin) {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      }
      if (database) {
        const dropper = new pg.Client({ connectionString: PG_URL });
        await dropper.connect();
        await dropper.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => dropper.end());
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
