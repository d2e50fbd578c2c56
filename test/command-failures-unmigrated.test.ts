// Every command a user can type (the commander program walked), run as the real `cfg` on a
// database with no migration applied, SQLite and PostgreSQL: each one that needs it fails with one
// line, E_DB_NOT_MIGRATED with the count of unapplied migrations, no stack trace, and creates
// nothing (no SQLite file, no PostgreSQL schema).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import pg from 'pg';
import { PG_URL } from './support/db.ts';
import { onUnmigrated, runAll, unusableDatabaseProject } from './support/every-command.ts';

const { project, schemas } = unusableDatabaseProject();

describe('a database with no migration applied', { concurrency: true }, () => {
  test('SQLite not migrated: E_DB_NOT_MIGRATED with the count, and no database file created', async () => {
    await runAll(
      async (argv, slug) => {
        const r = await project().run(argv, { DATABASE_URL: `file:./var/${slug}.sqlite3` });
        if (!['migrate', 'makemigrations'].includes(slug)) assert.ok(!existsSync(project().path('var', `${slug}.sqlite3`)), `${slug} created its database file`);
        return r;
      },
      onUnmigrated,
    );
  });

  test('PostgreSQL not migrated: E_DB_NOT_MIGRATED with the count, and no schema created', async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await runAll(
        async (argv, slug) => {
          const schema = `cfg_cmd_${process.pid}_${slug}`;
          schemas.push(schema);
          const r = await project().run(argv, { DATABASE_URL: `${PG_URL}?schema=${schema}` });
          const created = (await admin.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).rowCount;
          if (slug !== 'migrate') assert.equal(created, 0, `${slug} created schema ${schema}`);
          return r;
        },
        onUnmigrated,
      );
    } finally {
      await admin.end();
    }
  });
});
