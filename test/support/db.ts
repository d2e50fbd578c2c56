// Databases for the db tests: a temp project holding a copy of prisma/ (schema and committed
// migrations), and a fresh database per test: a SQLite file under the project's var/, or a
// PostgreSQL schema of its own in the `test` database (dropped by drop()).
import { cp, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { applyMigrations } from '../../src/db/apply.ts';
import { createDb, type CreateDbOptions, type Db } from '../../src/db/client.ts';
import { parseDatabaseUrl, type DatabaseTarget } from '../../src/db/url.ts';
import { configText, makeProject, REPO, type Project } from '../fixtures/project.ts';

export const PG_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
export const PROVIDERS = ['sqlite', 'postgresql'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** A temp project (package.json, node_modules link, cfg.config.ts) with a copy of the repo's prisma/. */
export async function dbProject(): Promise<Project> {
  const project = await makeProject({ protos: false, stubs: false });
  await cp(join(REPO, 'prisma'), project.path('prisma'), { recursive: true });
  await mkdir(project.path('apps', 'crypto'), { recursive: true });
  await mkdir(project.path('proto'), { recursive: true });
  return project;
}

/** A temp project like this repo: prisma/, the crypto proto and seed, cfg.config.ts enabling crypto. */
export async function cryptoProject(): Promise<Project> {
  const project = await dbProject();
  await cp(join(REPO, 'proto', 'crypto_service.proto'), project.path('proto', 'crypto_service.proto'));
  await cp(join(REPO, 'apps', 'crypto', 'seed.ts'), project.path('apps', 'crypto', 'seed.ts'));
  await project.write('cfg.config.ts', configText({ grpc: { enabledApps: ['crypto'] } }));
  return project;
}

/** The names of the repo's committed migrations for `provider`, in order. */
export function committedMigrations(provider: Provider): string[] {
  return readdirSync(join(REPO, 'prisma', 'migrations', provider), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** An empty database of its own, with plain SQL access for assertions. */
export interface TestDatabase {
  provider: Provider;
  /** What DATABASE_URL is set to. */
  url: string;
  target: DatabaseTarget;
  /** Runs SQL (no parameters); integers come back as strings, so both databases compare alike. */
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  /** Table names, sorted. */
  tables(): Promise<string[]>;
  drop(): Promise<void>;
}

const plain = (row: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' || typeof v === 'number' ? String(v) : v]));

/** SQLite: `<root>/var/<name>.sqlite3` (so "file:./var/test.sqlite3" names it too); PostgreSQL: a new schema. */
export async function testDatabase(provider: Provider, root: string, name = 'test'): Promise<TestDatabase> {
  if (provider === 'sqlite') {
    await mkdir(join(root, 'var'), { recursive: true });
    const file = join(root, 'var', `${name}.sqlite3`);
    const query = async (sql: string) => {
      const db = new Database(file);
      try {
        const stmt = db.prepare(sql);
        if (!stmt.reader) {
          stmt.run();
          return [];
        }
        return (stmt.safeIntegers(true).all() as Array<Record<string, unknown>>).map(plain);
      } finally {
        db.close();
      }
    };
    const url = `file:${file}`;
    return {
      provider,
      url,
      target: parseDatabaseUrl(url, root),
      query,
      tables: async () =>
        (await query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)).map((r) =>
          String(r.name),
        ),
      drop: async () => {},
    };
  }
  const schema = `cfg_db_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  await admin.query(`SET search_path TO ${schema}`);
  const url = `${PG_URL}?schema=${schema}`;
  return {
    provider,
    url,
    target: parseDatabaseUrl(url, root),
    query: async (sql) => (await admin.query(sql)).rows.map(plain),
    tables: async () =>
      (
        await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema])
      ).rows.map((r) => String(r.table_name)),
    drop: async () => {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * A migrated database of its own and a client on it, for one test: `fn` gets both; the client,
 * the database and the project are removed afterwards.
 */
export async function withMigratedDb<T>(
  provider: Provider,
  fn: (db: Db, database: TestDatabase, project: Project) => Promise<T>,
  options: CreateDbOptions = {},
): Promise<T> {
  const project = await dbProject();
  const database = await testDatabase(provider, project.root);
  let db: Db | undefined;
  try {
    await applyMigrations(project.root, database.target);
    db = await createDb(database.target, { poolSize: 4, ...options });
    return await fn(db, database, project);
  } finally {
    await db?.$disconnect();
    await database.drop();
    await project.remove();
  }
}

/** A loopback port nothing listens on (an unreachable database, a dead proxy). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
