// cfg migrate keeps Prisma's migration history: after it, Prisma's own schema engine (the WASM
// build that `prisma migrate deploy` runs with driver adapters) finds every migration applied,
// none edited or failed, and nothing to apply; and the committed SQL builds exactly the tables
// prisma/schema.prisma describes (no drift, so a forgotten `cfg makemigrations` fails here).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { applyMigrations } from '../src/db/apply.ts';
import { schemaFor } from '../src/db/generate.ts';
import { listMigrations, migrationsDir } from '../src/db/migrations.ts';
import { loadSchemaEngine, type SchemaEngine } from '../src/db/schema-engine.ts';
import type { DatabaseTarget } from '../src/db/url.ts';
import { REPO } from './fixtures/project.ts';
import { committedMigrations, dbProject, PROVIDERS, testDatabase } from './support/db.ts';

const FILTERS = { externalTables: [], externalEnums: [] };

/** Prisma's schema engine on `target`, through the same driver adapter the app uses. */
async function engineFor(target: DatabaseTarget, schema: string): Promise<SchemaEngine> {
  const factory: SqlMigrationAwareDriverAdapterFactory =
    target.provider === 'sqlite'
      ? new (await import('@prisma/adapter-better-sqlite3')).PrismaBetterSqlite3({ url: target.file })
      : new (await import('@prisma/adapter-pg')).PrismaPg(
          // The engine reads _prisma_migrations unqualified: search_path names the test's schema.
          { connectionString: target.connectionString, options: `-c search_path=${target.schema}` },
          { schema: target.schema },
        );
  const { SchemaEngine } = await loadSchemaEngine();
  return SchemaEngine.new({ datamodels: [['schema.prisma', schema]] }, () => {}, bindMigrationAwareSqlAdapterFactory(factory));
}

/** The migrations folder as the prisma CLI hands it to the engine (directory names, file contents). */
async function migrationsList(root: string, provider: DatabaseTarget['provider']) {
  const baseDir = migrationsDir(root, provider);
  const lock = join(baseDir, 'migration_lock.toml');
  return {
    baseDir,
    lockfile: { path: lock, content: await readFile(lock, 'utf8') },
    shadowDbInitScript: '',
    migrationDirectories: listMigrations(root, provider).map((m) => ({
      path: m.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok' as const, value: m.sql } },
    })),
  };
}

for (const provider of PROVIDERS) {
  describe(`Prisma's migration history on ${provider}`, () => {
    test("after cfg migrate, Prisma's schema engine finds every migration applied and nothing to do", async () => {
      const project = await dbProject();
      const database = await testDatabase(provider, project.root);
      let engine: SchemaEngine | undefined;
      try {
        assert.deepEqual(await applyMigrations(project.root, database.target), committedMigrations(provider));
        const schema = schemaFor(
          await readFile(join(REPO, 'prisma', 'schema.prisma'), 'utf8'),
          provider,
          `../generated/prisma/${provider}`,
        );
        engine = await engineFor(database.target, schema);
        const history = await migrationsList(project.root, provider);

        const diagnosis = await engine.diagnoseMigrationHistory({
          migrationsList: history,
          optInToShadowDatabase: false,
          filters: FILTERS,
        });
        assert.deepEqual(diagnosis, { editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null });
        assert.deepEqual(await engine.applyMigrations({ migrationsList: history, filters: FILTERS }), { appliedMigrationNames: [] });
        assert.deepEqual(await database.query('SELECT COUNT(*) AS n FROM "_prisma_migrations"'), [
          { n: String(committedMigrations(provider).length) },
        ]);

        if (provider === 'sqlite') {
          // The live database against the schema (the engine's PostgreSQL introspection cannot run
          // through the pg adapter in this version, so drift is checked on SQLite only).
          const files = [{ path: 'schema.prisma', content: schema }];
          const drift = await engine.diff({
            from: { tag: 'schemaDatasource', files, configDir: project.root },
            to: { tag: 'schemaDatamodel', files },
            script: true,
            exitCode: null,
            filters: FILTERS,
            shadowDatabaseUrl: null,
          } as Parameters<SchemaEngine['diff']>[0]);
          assert.equal(
            (drift.stdout ?? '').replace(/^--.*\n?/gm, '').trim(),
            '',
            `the migrated database differs from prisma/schema.prisma:\n${drift.stdout}`,
          );
        }
      } finally {
        engine?.free();
        await database.drop();
        await project.remove();
      }
    });
  });
}
