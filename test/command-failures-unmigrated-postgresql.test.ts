// Every command a user can type (the commander program walked), run as the real `cfg` on a
// PostgreSQL schema with no migration applied: each one that needs it fails with one line,
// E_DB_NOT_MIGRATED with the count of unapplied migrations, no stack trace, and creates no schema.
// (SQLite: command-failures-unmigrated.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { PG_URL } from './support/db.ts';
import { onUnmigrated, runAll, unusableDatabaseProject } from './support/every-command.ts';

const { project, schemas } = unusableDatabaseProject();

test('PostgreSQL not migrated: E_DB_NOT_MIGRATED with the count, and no schema created', async () => {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await runAll(async (argv, slug) => {
      const schema = `cfg_cmd_${process.pid}_${slug}`;
      schemas.push(schema);
      const r = await project().run(argv, { DATABASE_URL: `${PG_URL}?schema=${schema}` });
      const created = (await admin.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).rowCount;
      if (slug !== 'migrate') assert.equal(created, 0, `${slug} created schema ${schema}`);
      return r;
    }, onUnmigrated);
  } finally {
    await admin.end();
  }
});
