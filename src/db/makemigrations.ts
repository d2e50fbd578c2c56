import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import { CfgError } from '../errors.ts';
import { databaseFailure } from './command-errors.ts';
import { PROVIDERS, schemaFor } from './generate.ts';
import { lastSnapshot, migrationsDir } from './migrations.ts';
import { loadSchemaEngine, type SchemaEngine } from './schema-engine.ts';
import type { Provider } from './url.ts';

export interface MadeMigration {
  provider: Provider;
  /** The folder written, or null when the schema did not change (or the provider was skipped). */
  name: string | null;
  sql: string;
  /** Why nothing was written for this provider although its schema may have changed. */
  skipped?: string;
}

const FILTERS = { externalTables: [], externalEnums: [] };

/** The SQL that takes a database from schema `from` (null: empty) to schema `to`, by Prisma's WASM schema engine. */
export async function diffSchemas(provider: Provider, from: string | null, to: string, pgUrl?: string): Promise<string> {
  const { SchemaEngine } = await loadSchemaEngine();
  const factory: SqlMigrationAwareDriverAdapterFactory =
    provider === 'sqlite'
      ? new (await import('@prisma/adapter-better-sqlite3')).PrismaBetterSqlite3({ url: ':memory:' })
      : new (await import('@prisma/adapter-pg')).PrismaPg({ connectionString: pgUrl ?? 'postgresql://postgres@127.0.0.1:5432/postgres' });
  // Whatever connections the engine opens are closed afterwards, so the process can exit at once.
  const opened: SqlDriverAdapter[] = [];
  const track = (adapter: SqlDriverAdapter) => {
    opened.push(adapter);
    return adapter;
  };
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => track(await factory.connect()),
    connectToShadowDb: async () => track(await factory.connectToShadowDb()),
  };
  let engine: SchemaEngine;
  try {
    engine = await SchemaEngine.new({ datamodels: [['schema.prisma', to]] }, () => {}, bindMigrationAwareSqlAdapterFactory(tracked));
  } catch (err) {
    await Promise.all(opened.map((a) => a.dispose().catch(() => {})));
    // The engine wants a live server to diff PostgreSQL schemas (any database on it will do);
    // the command says which and why (E_DB_UNREACHABLE, ...).
    throw err;
  }
  const target = (content: string) => ({ tag: 'schemaDatamodel' as const, files: [{ path: 'schema.prisma', content }] });
  try {
    const result = (await engine.diff({
      from: from === null ? { tag: 'empty' } : target(from),
      to: target(to),
      script: true,
      exitCode: null,
      filters: FILTERS,
    } as never)) as { stdout: string };
    // Migrations run in whatever schema the database URL names, so none is hard-coded.
    return result.stdout.replace(/-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "[^"]+";\n\n?/g, '');
  } catch (err) {
    throw new CfgError(
      'E_MIGRATION',
      `The schema engine could not diff prisma/schema.prisma (${provider}): ${(err as Error).message}`,
      'Fix the schema error above.',
    );
  } finally {
    engine.free();
    await Promise.all(opened.map((a) => a.dispose().catch(() => {})));
  }
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * Writes prisma/migrations/<provider>/<timestamp>_<name>/migration.sql for each provider, from the
 * difference between the schema as of the last migration (kept beside it as schema.prisma) and
 * prisma/schema.prisma now. Nothing is written for a provider whose schema did not change.
 * PostgreSQL's diff needs a live server: `pgUrl` (the configured database) or a local default;
 * without one (and no pgUrl) that provider is skipped, and its next migration catches up, since
 * each provider diffs from its own last snapshot.
 */
export async function makeMigrations(root: string, name: string, pgUrl?: string): Promise<MadeMigration[]> {
  if (!/^[a-z0-9_]+$/i.test(name))
    throw new CfgError(
      'E_USAGE',
      `Migration name "${name}" must be letters, digits and underscores.`,
      'e.g. cfg makemigrations --name add_coin_rank',
    );
  const schema = await readFile(join(root, 'prisma', 'schema.prisma'), 'utf8');
  const stamp = timestamp();
  // Every diff first, so a failure writes nothing.
  const diffs: Array<{ provider: Provider; to: string; sql: string; skipped?: string }> = [];
  for (const provider of PROVIDERS) {
    const to = schemaFor(schema, provider, `../generated/prisma/${provider}`);
    try {
      diffs.push({ provider, to, sql: await diffSchemas(provider, lastSnapshot(root, provider), to, pgUrl) });
    } catch (err) {
      if (provider !== 'postgresql' || pgUrl !== undefined || databaseFailure(err)?.kind !== 'unreachable') throw err;
      diffs.push({ provider, to, sql: '', skipped: 'no PostgreSQL server reachable at 127.0.0.1:5432 (set DATABASE_URL to one)' });
    }
  }
  const out: MadeMigration[] = [];
  for (const { provider, to, sql, skipped } of diffs) {
    if (!/^\s*[A-Z]/m.test(sql.replace(/^--.*$/gm, ''))) {
      out.push({ provider, name: null, sql: '', ...(skipped ? { skipped } : {}) });
      continue;
    }
    const base = migrationsDir(root, provider);
    const dir = join(base, `${stamp}_${name}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'migration.sql'), sql);
    await writeFile(join(dir, 'schema.prisma'), to);
    await writeFile(
      join(base, 'migration_lock.toml'),
      `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${provider}"\n`,
    );
    out.push({ provider, name: `${stamp}_${name}`, sql });
  }
  return out;
}
